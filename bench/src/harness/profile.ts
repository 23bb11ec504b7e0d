import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import type { Endpoints, WorkerSpec } from './protocol';
import { Worker } from './worker';

export interface ProfileSummary {
  scenario: string;
  variant: string;
  /** The .cpuprofile, relative to the repository (open it in Chrome DevTools or speedscope). */
  file: string;
  /** Sampled time the process was not idle, ms. */
  busyMs: number;
  /** Length of the profiled run, ms: busy far below it means the run waited (I/O, the broker, the database). */
  wallMs: number;
  /** Self time by package or area, share of busy time, largest first. */
  byArea: { area: string; percent: number }[];
  /** Functions by self time, share of busy time. */
  topFunctions: FunctionTime[];
  /** evkit functions by inclusive time (themselves and what they call), share of busy time. */
  evkitInclusive: FunctionTime[];
}

export interface FunctionTime {
  name: string;
  location: string;
  area: string;
  percent: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const REPO = path.resolve(__dirname, '..', '..', '..');

/**
 * Profiles one measured-size run of a variant (after an unprofiled warm-up run in the same
 * worker) with the V8 CPU profiler, started and stopped around the run, and summarizes it.
 */
export async function profileVariant(options: {
  scenario: string;
  variant: string;
  spec: WorkerSpec;
  endpoints: Endpoints;
  dir: string;
  warmUp: unknown;
  profiled: unknown;
  beforeRun?: () => Promise<void>;
  execPath?: string | undefined;
}): Promise<ProfileSummary> {
  fs.mkdirSync(options.dir, { recursive: true });
  const file = path.join(options.dir, `${options.scenario}.${options.variant}.cpuprofile`);
  const worker = await Worker.start(options.spec, options.endpoints, `${options.variant} (profiled)`, options.execPath);
  try {
    await options.beforeRun?.();
    await worker.run(options.warmUp);
    await options.beforeRun?.();
    await worker.profile({ body: options.profiled, file });
  } finally {
    await worker.stop();
  }
  return summarizeProfile(file, options.scenario, options.variant);
}

/**
 * profileVariant for each of `variants` in turn, logging each: `payload(variant, 'profile-warm-up')`
 * and `payload(variant, 'profile')` are its two runs.
 */
export async function profileVariants<V extends string>(
  variants: readonly V[],
  options: Omit<Parameters<typeof profileVariant>[0], 'variant' | 'spec' | 'warmUp' | 'profiled'> & {
    specOf: (variant: V) => WorkerSpec;
    payload: (variant: V, rep: string) => unknown;
    /** The Node binary of a variant's worker, when not this one. */
    execPathOf?: (variant: V) => string | undefined;
    log: (line: string) => void;
  },
): Promise<ProfileSummary[]> {
  const { specOf, payload, execPathOf, log, ...common } = options;
  const profiles: ProfileSummary[] = [];
  for (const variant of variants) {
    log(`  profiling ${variant}`);
    profiles.push(
      await profileVariant({
        ...common,
        variant,
        spec: specOf(variant),
        warmUp: payload(variant, 'profile-warm-up'),
        profiled: payload(variant, 'profile'),
        execPath: execPathOf?.(variant),
      }),
    );
  }
  return profiles;
}

export function summarizeProfile(file: string, scenario: string, variant: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const frameOf = (id: number) => {
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id)!.callFrame;
    const location = url ? sourceLocation(url, lineNumber, columnNumber) : '';
    return { key: `${functionName}@${location}`, name: functionName || '(anonymous)', location, area: areaOf(url, functionName), idle: functionName === '(idle)' };
  };
  const self = new Map<string, FunctionTime & { us: number }>();
  const inclusive = new Map<string, FunctionTime & { us: number }>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  const add = (into: Map<string, FunctionTime & { us: number }>, frame: ReturnType<typeof frameOf>, us: number) => {
    const entry = into.get(frame.key) ?? { name: frame.name, location: frame.location, area: frame.area, percent: 0, us: 0 };
    entry.us += us;
    into.set(frame.key, entry);
  };
  // Samples taken while the inspector started or stopped the profiler are its own cost.
  const underInspector = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (nodes.get(at)!.callFrame.url === 'node:inspector') return true;
    return false;
  };
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const leaf = frameOf(id);
    if (leaf.idle || us <= 0 || underInspector(id)) return;
    busyUs += us;
    byArea.set(leaf.area, (byArea.get(leaf.area) ?? 0) + us);
    add(self, leaf, us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameOf(at);
      if (!frame.area.startsWith('@evkit/') || seen.has(frame.key)) continue;
      seen.add(frame.key);
      add(inclusive, frame, us);
    }
  });
  const percent = (us: number) => Math.round((1000 * us) / Math.max(1, busyUs)) / 10;
  const ranked = (entries: Map<string, FunctionTime & { us: number }>, count: number) =>
    [...entries.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, count)
      .map(({ us, ...rest }) => ({ ...rest, percent: percent(us) }));
  return {
    scenario,
    variant,
    file: path.relative(REPO, file),
    busyMs: Math.round(busyUs / 1000),
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    byArea: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, percent: percent(us) })),
    topFunctions: ranked(self, 15),
    evkitInclusive: ranked(inclusive, 15),
  };
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** `file:line` in the TypeScript source when the file has a source map (evkit's dist does), else in the file. */
function sourceLocation(url: string, line: number, column: number): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (!sourceMaps.has(file)) {
    const mapFile = `${file}.map`;
    sourceMaps.set(file, fs.existsSync(mapFile) ? new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : undefined);
  }
  const entry = sourceMaps.get(file)?.findEntry(line, column);
  if (entry && 'originalSource' in entry) {
    const source = path.resolve(path.dirname(file), entry.originalSource);
    return `${relative(source)}:${entry.originalLine + 1}`;
  }
  return `${relative(url)}:${line + 1}`;
}

function relative(url: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith(REPO) ? file.slice(REPO.length + 1) : file;
}

/** Which package or part of the runtime a function belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'V8 builtins / native';
  if (url.startsWith('node:')) return 'node internals';
  const evkit = /\/packages\/([^/]+)\/(?:dist|src)\//.exec(url);
  if (evkit) return `@evkit/${evkit[1]}`;
  const module = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (module) return module[1]!;
  if (url.includes('/bench/dist/')) return 'bench harness';
  return 'other';
}
