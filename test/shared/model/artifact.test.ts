// The model artifact: canonical JSON, content-derived versions, and validated reading that
// refuses other schema versions and files that are not models.

import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../shared/errors.ts';
import {
  canonicalJson,
  compactUtc,
  ModelSchema,
  parseActivePointer,
  parseModel,
  SCHEMA_VERSION,
  serializeModel,
  sha256,
  stampModel,
  type ModelBody,
} from '../../../shared/model/artifact.ts';
import { smallModel, TRAINED_AT } from '../support/model-fixtures.ts';

const { model } = smallModel();
const bodyOf = (m: typeof model): ModelBody => {
  const { modelVersion: _v, createdAt: _c, ...body } = m;
  return body;
};

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same text for objects built in different key orders', () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });
});

describe('sha256', () => {
  it('is the standard SHA-256 hex digest', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('compactUtc', () => {
  it('formats the UTC time as YYYYMMDDTHHMMSSZ', () => {
    expect(compactUtc(new Date('2026-11-26T15:30:00.123Z'))).toBe('20261126T153000Z');
    expect(compactUtc(new Date('2026-01-02T03:04:05+02:00'))).toBe('20260102T010405Z');
  });
});

describe('stampModel', () => {
  it('names the version by time and the first 12 hex digits of the body hash', () => {
    const body = bodyOf(model);
    const stamped = stampModel(body, new Date('2027-03-04T05:06:07.890Z'));
    expect(stamped.modelVersion).toBe(`20270304T050607Z-${sha256(canonicalJson(body)).slice(0, 12)}`);
    expect(stamped.createdAt).toBe('2027-03-04T05:06:07.890Z');
  });

  it('gives the same hash part for the same body at different times, and another for another body', () => {
    const body = bodyOf(model);
    const a = stampModel(body, new Date('2026-01-01T00:00:00Z'));
    const b = stampModel(body, new Date('2026-06-30T12:34:56Z'));
    const c = stampModel({ ...body, seed: body.seed + 1 }, new Date('2026-01-01T00:00:00Z'));
    const hash = (v: string): string => v.split('-')[1]!;
    expect(hash(a.modelVersion)).toBe(hash(b.modelVersion));
    expect(hash(c.modelVersion)).not.toBe(hash(a.modelVersion));
  });
});

describe('serializeModel and parseModel', () => {
  it('round-trip a trained model through the schema unchanged', () => {
    const text = serializeModel(model);
    const parsed = parseModel(text, 'model.json');
    expect(parsed).toEqual(model);
    expect(serializeModel(parsed)).toBe(text);
    expect(ModelSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it('writes indented JSON with sorted keys, ending in a newline', () => {
    const text = serializeModel(model);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "baseline": {');
    const keys = Object.keys(JSON.parse(text) as object);
    expect(keys).toEqual([...keys].sort());
  });

  it('stamps the trained model with its training time and a version matching the contract', () => {
    expect(model.schemaVersion).toBe(SCHEMA_VERSION);
    expect(model.createdAt).toBe(TRAINED_AT.toISOString());
    expect(model.modelVersion).toMatch(/^20261126T153000Z-[0-9a-f]{12}$/);
    expect(model.modelVersion.slice(17)).toBe(sha256(canonicalJson(bodyOf(model))).slice(0, 12));
  });

  it('refuses an artifact of another schema version, saying which', () => {
    const other = JSON.stringify({ ...model, schemaVersion: 3 });
    expect(() => parseModel(other, 's3://bucket/models/x/model.json')).toThrow(ModelError);
    expect(() => parseModel(other, 's3://bucket/models/x/model.json')).toThrow(
      's3://bucket/models/x/model.json has model schema version 3; this version reads schema 1 and 2',
    );
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseModel('<html>not a model</html>', 'report.html')).toThrow(ModelError);
    expect(() => parseModel('{"schemaVersion": 1,', 'model.json')).toThrow('model.json is not a model file (not JSON)');
  });

  it('refuses JSON without a schemaVersion', () => {
    expect(() => parseModel('{"modelVersion": "x"}', 'a.json')).toThrow('a.json is not a model file (no schemaVersion)');
    expect(() => parseModel('null', 'a.json')).toThrow(ModelError);
    expect(() => parseModel('[1, 2]', 'a.json')).toThrow(ModelError);
  });

  it('refuses a model that breaks the schema, naming the field', () => {
    const broken = JSON.parse(serializeModel(model)) as Record<string, unknown>;
    broken.k = 'five';
    expect(() => parseModel(JSON.stringify(broken), 'm.json')).toThrow(/^m\.json is not a valid model: k: /);
    expect(() => parseModel(JSON.stringify({ ...model, modelVersion: 'latest' }), 'm.json')).toThrow(/modelVersion/);
  });

  it('refuses a model whose centroids or segments do not match k', () => {
    const tooFew = { ...model, centroids: { ...model.centroids, model: model.centroids.model.slice(1) } };
    expect(() => parseModel(JSON.stringify(tooFew), 'm.json')).toThrow(ModelError);
    expect(() => parseModel(JSON.stringify(tooFew), 'm.json')).toThrow(/do not match k = /);
    const shortCentroid = { ...model, centroids: { ...model.centroids, model: model.centroids.model.map((c) => c.slice(1)) } };
    expect(() => parseModel(JSON.stringify(shortCentroid), 'm.json')).toThrow(/do not match k/);
  });
});

describe('parseActivePointer', () => {
  const pointer = { modelVersion: '20261126T153000Z-3fa2b9c01d4e', promotedAt: '2026-11-26T15:31:00.000Z', previous: null };

  it('reads a valid pointer', () => {
    expect(parseActivePointer(JSON.stringify(pointer), 'active.json')).toEqual(pointer);
  });

  it('refuses non-JSON and a malformed version', () => {
    expect(() => parseActivePointer('nope', 'active.json')).toThrow(ModelError);
    expect(() => parseActivePointer(JSON.stringify({ ...pointer, modelVersion: 'v1' }), 'active.json')).toThrow(
      /20261126T153000Z-3fa2b9c01d4e/,
    );
  });
});
