import * as net from 'node:net';

// A loopback TCP proxy in front of a Kafka cluster that can lose produce responses: it forwards
// a Produce request to the broker, then closes the connection when the broker's answer comes
// back, so the broker has written the batch and the client never learns it. This is the
// "outcome unknown" a timeout, a dropped connection or a broker killed mid-request leaves, made
// deterministic for tests (issue: an acknowledged publish lost after a broker kill, B1).
//
// Clients bootstrap from the proxy; it rewrites every broker address in Metadata responses to a
// listener of its own (one per broker node), so all of a client's broker traffic, produce
// included, goes through it. Other responses that carry addresses (FindCoordinator) are left
// alone: group traffic may go straight to the broker, which the tests here do not mind.

const PRODUCE = 0;
const METADATA = 3;
/** Metadata responses use flexible encoding (compact strings, tagged fields) from version 9. */
const METADATA_FIRST_FLEXIBLE = 9;
/** Larger frames than this are not Kafka traffic a test makes; refuse rather than buffer. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface KafkaProxy {
  /** Bootstrap address(es) for the client under test. */
  readonly brokers: string[];
  /** While true, every Produce response is dropped and its connection closed. */
  loseProduceResponses(lose: boolean): void;
  /** Produce requests forwarded whose response was dropped, since the proxy started. */
  readonly lostResponses: number;
  close(): Promise<void>;
}

interface Listener {
  server: net.Server;
  port: number;
}

/** Starts a proxy in front of the broker at `upstream` (`host:port`), listening on 127.0.0.1. */
export async function startKafkaProxy(upstream: string): Promise<KafkaProxy> {
  const listeners = new Map<string, Promise<Listener>>();
  const sockets = new Set<net.Socket>();
  let lose = false;
  let lost = 0;

  const listenerFor = (target: string): Promise<Listener> => {
    let listener = listeners.get(target);
    if (!listener) {
      listener = listen(target);
      listeners.set(target, listener);
    }
    return listener;
  };

  const listen = (target: string): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const server = net.createServer((client) => pipe(client, target));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port }));
    });

  const pipe = (client: net.Socket, target: string) => {
    const [host, port] = splitAddress(target);
    const broker = net.connect({ host, port });
    for (const socket of [client, broker]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // Either side failing ends both: the client sees a closed connection, as with a real broker.
      socket.once('error', () => undefined);
    }
    const closeBoth = () => {
      client.destroy();
      broker.destroy();
    };
    client.once('close', closeBoth);
    broker.once('close', closeBoth);

    // correlation id → the request's API key and version, to read the matching response.
    const pending = new Map<number, { apiKey: number; apiVersion: number }>();
    onFrames(client, closeBoth, (frame) => {
      pending.set(frame.readInt32BE(4), { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2) });
      broker.write(withSize(frame));
    });
    // Responses are handled one after another: a Metadata rewrite may wait for a new listener.
    let responses = Promise.resolve();
    onFrames(broker, closeBoth, (frame) => {
      responses = responses
        .then(async () => {
          const correlationId = frame.readInt32BE(0);
          const request = pending.get(correlationId);
          pending.delete(correlationId);
          if (request?.apiKey === PRODUCE && lose) {
            lost += 1;
            closeBoth();
            return;
          }
          const out = request?.apiKey === METADATA ? await rewriteMetadata(frame, request.apiVersion, listenerFor) : frame;
          if (!client.destroyed) client.write(withSize(out));
        })
        .catch(closeBoth);
    });
  };

  const first = await listenerFor(upstream);
  return {
    brokers: [`127.0.0.1:${first.port}`],
    loseProduceResponses(value) {
      lose = value;
    },
    get lostResponses() {
      return lost;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      const servers = await Promise.all(listeners.values());
      await Promise.all(servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}

function withSize(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length);
  return Buffer.concat([size, frame]);
}

/** Calls `onFrame` with each size-prefixed frame read from the socket (without its size). */
function onFrames(socket: net.Socket, fail: () => void, onFrame: (frame: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const size = buffered.readInt32BE(0);
      if (size < 8 || size > MAX_FRAME_BYTES) {
        fail();
        return;
      }
      if (buffered.length < 4 + size) break;
      onFrame(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  });
}

/** Reads the Kafka primitives a Metadata response's broker list needs. */
class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset: number,
  ) {}
  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer[this.offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      if (shift > 28) throw new Error('varint too long');
    }
  }
  /** A string (compact in flexible versions); null for a null string. */
  string(flexible: boolean): string | null {
    const length = flexible ? this.uvarint() - 1 : this.int16();
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  skipTaggedFields(): void {
    for (let tags = this.uvarint(); tags > 0; tags -= 1) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) {
      bytes.push(rest);
      return Buffer.from(bytes);
    }
    bytes.push((rest % 128) | 0x80);
  }
}

function encodeString(value: string, flexible: boolean): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = flexible ? uvarint(bytes.length + 1) : Buffer.from([bytes.length >> 8, bytes.length & 0xff]);
  return Buffer.concat([length, bytes]);
}

/**
 * The response with each broker's host and port replaced by a proxy listener's. Only the broker
 * list is re-encoded; everything after it is copied as it came.
 */
async function rewriteMetadata(frame: Buffer, version: number, listenerFor: (target: string) => Promise<Listener>): Promise<Buffer> {
  const flexible = version >= METADATA_FIRST_FLEXIBLE;
  const reader = new Reader(frame, 4);
  if (flexible) reader.skipTaggedFields(); // response header v1
  if (version >= 3) reader.int32(); // throttle_time_ms
  const head = frame.subarray(0, reader.offset);
  const count = flexible ? reader.uvarint() - 1 : reader.int32();
  const parts: Buffer[] = [head, flexible ? uvarint(count + 1) : int32(count)];
  for (let i = 0; i < count; i += 1) {
    const nodeId = reader.int32();
    const host = reader.string(flexible);
    const port = reader.int32();
    const restStart = reader.offset;
    if (version >= 1) reader.string(flexible); // rack
    if (flexible) reader.skipTaggedFields();
    const { port: proxyPort } = await listenerFor(`${host}:${port}`);
    parts.push(int32(nodeId), encodeString('127.0.0.1', flexible), int32(proxyPort), frame.subarray(restStart, reader.offset));
  }
  parts.push(frame.subarray(reader.offset));
  return Buffer.concat(parts);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}
