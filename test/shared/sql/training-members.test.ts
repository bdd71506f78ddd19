// The TrainingMembers contract, over every SqlClient (pg, and the Data API through the emulator):
// which customers a table-trained model was trained on, in bounded statements.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Customer } from '../../../shared/csv/contract.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { SqlCustomers } from '../../../shared/sql/customers.ts';
import { UPSERT_BATCH_ROWS } from '../../../shared/sql/rows.ts';
import { SqlTrainingMembers } from '../../../shared/sql/training-members.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const customers = (rows: number, seed: number, firstId = 1): Customer[] =>
  [...generateCustomers({ rows, seed, firstId })].map(({ planted: _planted, ...c }) => c);

const clients = useSqlClients('training_members', ['customers', 'training_members']);

describe.each(SQL_CLIENTS)('SqlTrainingMembers over %s', (name) => {
  let members: SqlTrainingMembers;
  let table: SqlCustomers;
  beforeEach(() => {
    const sql = clients.client(name);
    members = new SqlTrainingMembers(sql);
    table = new SqlCustomers(sql);
  });

  it('records members once per model: a second recording counts only the new ones', async () => {
    expect(await members.recordTrainingMembers('m1', ['a', 'b', 'c'])).toBe(3);
    expect(await members.recordTrainingMembers('m1', ['b', 'c', 'd'])).toBe(1);
    expect(await members.recordTrainingMembers('m2', ['a'])).toBe(1);
  });

  it('says which of the given customers a model was trained on, across several bounded statements', async () => {
    const ids = Array.from({ length: 2 * UPSERT_BATCH_ROWS + 500 }, (_, i) => `c${String(i).padStart(5, '0')}`);
    const trained = ids.filter((_, i) => i % 3 === 0);
    expect(await members.recordTrainingMembers('m1', trained)).toBe(trained.length);
    expect(await members.trainingMembersAmong('m1', ids)).toEqual(new Set(trained));
    expect(await members.trainingMembersAmong('m2', ids)).toEqual(new Set());
  });

  it("reads the training customers' current rows, in key order, page by page", async () => {
    const rows = customers(30, 1);
    await table.upsertCustomers(rows);
    const trained = rows.filter((_, i) => i % 2 === 0);
    await members.recordTrainingMembers('m1', [...trained.map((c) => c.customerId), 'no-longer-in-the-table']);
    const changed = { ...trained[0]!, age: (trained[0]!.age as number) + 1 };
    await table.upsertCustomers([changed]);
    const pages: Customer[][] = [];
    for await (const page of members.readTrainingMembers('m1', undefined, 4)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
    const expected = [changed, ...trained.slice(1)].sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
    expect(pages.flat()).toEqual(expected);
  });
});
