/**
 * The server's middleware, one concern a module (as hono keeps them): each
 * is a function of its options returning an express handler, so the app
 * reads as the list of guards a request passes.
 */
export { securityHeaders } from './security-headers.js';
export { hostCheck, isLoopback, LOOPBACK } from './host-check.js';
export { cors } from './cors.js';
export { readOnly } from './read-only.js';
export { sameOrigin } from './same-origin.js';
export { bearerToken, carriesToken } from './bearer-token.js';
export { jsonBodies } from './json-bodies.js';
export { methodNotAllowed } from './method-not-allowed.js';
export { errorHandler } from './errors.js';

/** Methods that change the board. */
export const WRITE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
