/**
 * Which methods each API path takes, from the declarations the routes are
 * built from (their `rest` bindings) plus the server's own endpoints: the
 * `Allow` header of a 405 and of an OPTIONS answer. A path matches the way
 * express matches it: literal segments case-insensitively, a `:param` as one
 * non-empty segment, a trailing slash ignored.
 */
import { restBindings, type AnyDeclaration } from '../api/declare.js';
import { DECLARATIONS } from '../api/ops/index.js';

export interface Route {
  method: string;
  /** Under /api, as express takes it: `/workstreams/:workstream/tasks`. */
  path: string;
}

/** The server's endpoints that are not operations. */
export const SERVER_ENDPOINTS: readonly Route[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/stream' },
];

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function segments(path: string): string[] {
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export class RouteTable {
  private readonly entries: Array<{ parts: string[]; method: string }>;

  constructor(routes: readonly Route[]) {
    this.entries = routes.map((r) => ({ parts: segments(r.path).map((p) => (p.startsWith(':') ? p : p.toLowerCase())), method: r.method.toUpperCase() }));
  }

  /**
   * The methods a path takes, in a fixed order (GET brings HEAD; OPTIONS is
   * always answered), or null when no route has this path.
   */
  allow(path: string): string[] | null {
    const parts = segments(path);
    const methods = new Set<string>();
    for (const e of this.entries) {
      if (e.parts.length !== parts.length) continue;
      if (e.parts.every((p, i) => (p.startsWith(':') ? parts[i] !== '' : p === parts[i].toLowerCase()))) methods.add(e.method);
    }
    if (!methods.size) return null;
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return ORDER.filter((m) => methods.has(m));
  }
}

/** The API's routes: every declared REST binding and the server's endpoints. */
export function apiRouteTable(): RouteTable {
  const routes: Route[] = [...SERVER_ENDPOINTS];
  for (const d of DECLARATIONS as readonly AnyDeclaration[]) for (const b of restBindings(d)) routes.push({ method: b.method, path: b.path });
  return new RouteTable(routes);
}
