import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectorStatus } from './client';

/** Records one answer per route; routes not given answer 404 with Connect's error body. */
export interface FakeConnect {
  url: string;
  requests: { method: string; path: string; body: unknown; authorization: string | undefined }[];
  answer(method: string, path: string, status: number, body?: unknown): void;
  close(): Promise<void>;
}

/** A stand-in for Kafka Connect's REST API, answering what each test sets up. */
export async function startFakeConnect(): Promise<FakeConnect> {
  const answers = new Map<string, { status: number; body?: unknown }>();
  const requests: FakeConnect['requests'] = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, body: text ? JSON.parse(text) : undefined, authorization: request.headers.authorization });
      const answer = answers.get(`${request.method} ${path}`) ?? { status: 404, body: { error_code: 404, message: `no route ${path}` } };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (method, path, status, body) => answers.set(`${method} ${path}`, { status, body }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function statusOf(name: string, connector: ConnectorStatus['connector']['state'], tasks: ConnectorStatus['tasks'] = []): ConnectorStatus {
  return { name, type: 'source', connector: { state: connector, worker_id: '127.0.0.1:8083' }, tasks };
}

export const VALID: { name: string; error_count: number; groups: string[]; configs: [] } = { name: 'x', error_count: 0, groups: [], configs: [] };

