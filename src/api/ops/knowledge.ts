/** The knowledge base: markdown topics. */
import { declare, f } from '../declare.js';
import * as knowledge from '../use-cases/knowledge.js';

const topic = f.string('the topic').rule('topic');

export const writeKnowledge = declare({
  name: 'knowledge.write',
  kind: 'write',
  summary: 'write a topic',
  input: { topic, content: f.string('markdown').arg('content'), agent: f.agent('who writes it').optional() },
  result: '{topic, bytes, created}',
  refusals: [],
  plan: knowledge.write,
  library: { writeKnowledge: { args: ['topic', 'content', 'agent'] } },
  cli: { group: 'kb', name: 'write', args: ['topic', 'content...'] },
  rest: { method: 'PUT', path: '/knowledge/:topic', answer: (r: object) => ({ ok: true, ...r }), fill: { agent: 'api' } },
  mcp: { tool: 'knowledge' },
});

export const readKnowledge = declare({
  name: 'knowledge.read',
  kind: 'read',
  summary: 'read a topic',
  input: { topic },
  result: '{topic, content}',
  refusals: ['NOT_FOUND'],
  run: knowledge.read,
  library: { readKnowledge: { args: ['topic'], map: (r: { content: string }) => r.content, refused: { NOT_FOUND: null } } },
  cli: { group: 'kb', name: 'read', args: ['topic'] },
  rest: { method: 'GET', path: '/knowledge/:topic' },
  mcp: { tool: 'knowledge' },
});

export const deleteKnowledge = declare({
  name: 'knowledge.delete',
  kind: 'write',
  summary: 'delete a topic',
  input: { topic, agent: f.agent('who deletes it').optional() },
  result: '{topic, deleted}',
  refusals: ['NOT_FOUND'],
  plan: knowledge.remove,
  library: { deleteKnowledge: { args: ['topic', 'agent'], map: () => true, refused: { NOT_FOUND: false } } },
  cli: { group: 'kb', name: ['delete', 'rm'], args: ['topic'] },
  rest: { method: 'DELETE', path: '/knowledge/:topic', answer: () => ({ ok: true }), fill: { agent: 'api' } },
});

export const listKnowledge = declare({
  name: 'knowledge.list',
  kind: 'read',
  summary: 'list topics',
  input: {},
  result: 'string[]',
  refusals: [],
  run: knowledge.list,
  library: { listKnowledge: { args: [] } },
  cli: { group: 'kb', name: ['list', 'ls'] },
  rest: { method: 'GET', path: '/knowledge' },
  mcp: { tool: 'knowledge' },
});
