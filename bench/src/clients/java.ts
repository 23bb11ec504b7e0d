import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { measurement, type Measurement } from '../harness/protocol';

// Kafka's own perf tools (kafka-producer-perf-test / kafka-consumer-perf-test), from the stack's
// jars: the broker's ceiling on this machine. They cannot write keys or headers: null keys, a
// random value of the record size.

export interface JavaTools {
  producerPerformance(options: { topic: string; records: number; recordBytes: number; batchRecords: number; throughput?: number }): Promise<Measurement>;
  consumerPerformance(options: { topic: string; groupId: string; records: number }): Promise<Measurement>;
  version(): Promise<string>;
}

export function javaTools(stackDir: string, brokers: readonly string[]): JavaTools {
  const classpath = path.join(stackDir, 'lib', 'kafka', '*');
  const log4j = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-bench-')), 'log4j2.properties');
  fs.writeFileSync(log4j, 'status = error\nappender.err.type = Console\nappender.err.name = ERR\nappender.err.target = SYSTEM_ERR\nappender.err.layout.type = PatternLayout\nappender.err.layout.pattern = %p %m%n\nrootLogger.level = WARN\nrootLogger.appenderRef.err.ref = ERR\n');
  const java = (main: string, args: string[]) => run('java', ['-Xmx1g', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath, main, ...args]);
  const bootstrap = brokers.join(',');

  return {
    async producerPerformance({ topic, records, recordBytes, batchRecords, throughput }) {
      const latency = throughput !== undefined;
      const output = await java('org.apache.kafka.tools.ProducerPerformance', [
        '--topic', topic,
        '--num-records', String(records),
        '--record-size', String(recordBytes),
        '--throughput', String(throughput ?? -1),
        '--producer-props',
        `bootstrap.servers=${bootstrap}`,
        'acks=all',
        'enable.idempotence=true',
        // A batch of `batchRecords` records (plus record overhead); for latency, each record alone.
        `batch.size=${latency ? recordBytes + 100 : batchRecords * (recordBytes + 100)}`,
        `linger.ms=${latency ? 0 : 5}`,
      ]);
      const summary = /(\d+) records sent, ([\d.]+) records\/sec .*?, ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(output);
      if (!summary) throw new Error(`ProducerPerformance printed no summary:\n${output}`);
      const sent = Number(summary[1]);
      const perSecond = Number(summary[2]);
      return { ...measurement(sent, (sent / perSecond) * 1000), ...(latency ? { p50Ms: Number(summary[5]), p99Ms: Number(summary[7]) } : {}) };
    },

    async consumerPerformance({ topic, groupId, records }) {
      const output = await java('org.apache.kafka.tools.ConsumerPerformance', [
        '--bootstrap-server', bootstrap,
        '--topic', topic,
        '--group', groupId,
        '--messages', String(records),
        '--timeout', '60000',
      ]);
      // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
      // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
      const line = output.split('\n').find((l) => /^\d{4}-\d\d-\d\d .*,/.test(l.trim()));
      const fields = line?.split(',').map((f) => f.trim());
      if (!fields || fields.length < 10) throw new Error(`ConsumerPerformance printed no summary:\n${output}`);
      const consumed = Number(fields[4]);
      const fetchMs = Number(fields[7]);
      if (consumed < records) throw new Error(`ConsumerPerformance read ${consumed} of ${records} records`);
      return measurement(consumed, fetchMs);
    },

    version() {
      const jar = fs.readdirSync(path.join(stackDir, 'lib', 'kafka')).find((f) => /^kafka-clients-[\d.]+\.jar$/.test(f));
      return Promise.resolve(jar?.replace(/^kafka-clients-|\.jar$/g, '') ?? 'unknown');
    },
  };
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.slice(-12).join(' ')} exited ${code}:\n${err}${out}`))));
  });
}
