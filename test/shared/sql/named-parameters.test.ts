// Rewriting the Data API's `:name` placeholders into PostgreSQL's `$n` without touching string
// literals, quoted identifiers or `::` casts.

import { describe, expect, it } from 'vitest';
import { toPositional } from '../../../shared/sql/named-parameters.ts';

describe('toPositional', () => {
  it('numbers placeholders in order of first appearance', () => {
    expect(toPositional('UPDATE customers SET segment = :segment WHERE customer_id = :id')).toEqual({
      text: 'UPDATE customers SET segment = $1 WHERE customer_id = $2',
      names: ['segment', 'id'],
    });
  });

  it('maps a name used twice to one $n', () => {
    expect(toPositional('SELECT :a, :b, :a, :b_2')).toEqual({ text: 'SELECT $1, $2, $1, $3', names: ['a', 'b', 'b_2'] });
  });

  it('leaves colons inside string literals alone', () => {
    expect(toPositional("SELECT to_char(now(), 'HH24:MI:SS'), :id")).toEqual({
      text: "SELECT to_char(now(), 'HH24:MI:SS'), $1",
      names: ['id'],
    });
  });

  it('handles doubled quotes inside a literal', () => {
    expect(toPositional("SELECT 'it''s :not_a_param', :yes")).toEqual({ text: "SELECT 'it''s :not_a_param', $1", names: ['yes'] });
  });

  it('leaves colons inside quoted identifiers alone', () => {
    expect(toPositional('SELECT "odd:name" FROM t WHERE x = :x')).toEqual({ text: 'SELECT "odd:name" FROM t WHERE x = $1', names: ['x'] });
  });

  it('keeps :: casts, also right after a placeholder', () => {
    expect(toPositional('SELECT :model::jsonb, now()::date, :n::int')).toEqual({
      text: 'SELECT $1::jsonb, now()::date, $2::int',
      names: ['model', 'n'],
    });
  });

  it('ignores a colon not followed by a name', () => {
    expect(toPositional("SELECT arr[1:2], ':' || :x, :1")).toEqual({ text: "SELECT arr[1:2], ':' || $1, :1", names: ['x'] });
  });

  it('returns the text unchanged when there are no placeholders', () => {
    expect(toPositional('SELECT 1')).toEqual({ text: 'SELECT 1', names: [] });
  });
});

describe('toPositional with comments', () => {
  it('leaves placeholders and quotes inside -- and /* */ comments alone', () => {
    const { text, names } = toPositional("SELECT :a -- the batch's :b\n, /* it's :c */ :d");
    expect(names).toEqual(['a', 'd']);
    expect(text).toBe("SELECT $1 -- the batch's :b\n, /* it's :c */ $2");
  });
});
