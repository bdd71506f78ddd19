// Every database port over one SqlClient, as one object: what the Data API and pg adapters offer
// (they supply the SqlClient and the customers table's schema). Each concern is its own part; this
// only puts them side by side.

import type {
  CustomerRepository,
  Database,
  LeaseLock,
  RunLog,
  SchemaMigrator,
  SqlClient,
  TableStatusReader,
  TableTraining,
  TrainingMembers,
  UploadLedger,
} from '../ports.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../schema/customer-schema.ts';
import { SqlCustomers } from './customers.ts';
import { SqlLeaseLock } from './lease-lock.ts';
import { SqlRunLog } from './run-log.ts';
import { SqlSchemaMigrator } from './schema-migrator.ts';
import { SqlTableStatus } from './table-status.ts';
import { SqlTableTraining } from './table-training.ts';
import { SqlTrainingMembers } from './training-members.ts';
import { SqlUploadLedger } from './upload-ledger.ts';

export class SqlDatabase implements Database {
  private readonly customers: CustomerRepository;
  private readonly members: TrainingMembers;
  private readonly training: TableTraining;
  private readonly ledger: UploadLedger;
  private readonly runs: RunLog;
  private readonly leases: LeaseLock;
  private readonly migrator: SchemaMigrator;
  private readonly table: TableStatusReader;

  /** `schema`: the customers table's feature columns (the schema last applied to it); the mall's by default. */
  constructor(
    sql: SqlClient,
    readonly schema: CustomerSchema = MALL_SCHEMA,
  ) {
    this.customers = new SqlCustomers(sql, schema);
    this.members = new SqlTrainingMembers(sql, schema);
    this.training = new SqlTableTraining(sql);
    this.ledger = new SqlUploadLedger(sql);
    this.runs = new SqlRunLog(sql);
    this.leases = new SqlLeaseLock(sql);
    this.migrator = new SqlSchemaMigrator(sql);
    this.table = new SqlTableStatus(sql);
  }

  // each method is its part's, typed by the port it belongs to (a signature written once, in ports.ts)
  upsertCustomers: Database['upsertCustomers'] = (...args) => this.customers.upsertCustomers(...args);
  upsertLabeledCustomers: Database['upsertLabeledCustomers'] = (...args) => this.customers.upsertLabeledCustomers(...args);
  storeUploadBatch: Database['storeUploadBatch'] = (...args) => this.customers.storeUploadBatch(...args);
  readCustomers: Database['readCustomers'] = (...args) => this.customers.readCustomers(...args);
  readSegment: Database['readSegment'] = (...args) => this.customers.readSegment(...args);
  countPending: Database['countPending'] = (...args) => this.customers.countPending(...args);
  checkColumns: Database['checkColumns'] = (...args) => this.customers.checkColumns(...args);
  labelNextBatch: Database['labelNextBatch'] = (...args) => this.customers.labelNextBatch(...args);
  pendingKeyAt: Database['pendingKeyAt'] = (...args) => this.customers.pendingKeyAt(...args);
  observePopulation: Database['observePopulation'] = (...args) => this.customers.observePopulation(...args);

  recordTrainingMembers: Database['recordTrainingMembers'] = (...args) => this.members.recordTrainingMembers(...args);
  readTrainingMembers: Database['readTrainingMembers'] = (...args) => this.members.readTrainingMembers(...args);
  trainingMembersAmong: Database['trainingMembersAmong'] = (...args) => this.members.trainingMembersAmong(...args);

  takeSnapshot: Database['takeSnapshot'] = (...args) => this.training.takeSnapshot(...args);
  scalerSums: Database['scalerSums'] = (...args) => this.training.scalerSums(...args);
  readSample: Database['readSample'] = (...args) => this.training.readSample(...args);
  lloydSums: Database['lloydSums'] = (...args) => this.training.lloydSums(...args);
  labelPoints: Database['labelPoints'] = (...args) => this.training.labelPoints(...args);
  valuesAtRanks: Database['valuesAtRanks'] = (...args) => this.training.valuesAtRanks(...args);
  countsAndSquares: Database['countsAndSquares'] = (...args) => this.training.countsAndSquares(...args);
  movement: Database['movement'] = (...args) => this.training.movement(...args);
  fingerprint: Database['fingerprint'] = (...args) => this.training.fingerprint(...args);
  recordMembers: Database['recordMembers'] = (...args) => this.training.recordMembers(...args);
  dropSnapshot: Database['dropSnapshot'] = (...args) => this.training.dropSnapshot(...args);
  labelCounts: Database['labelCounts'] = () => this.training.labelCounts();

  claimObject: Database['claimObject'] = (...args) => this.ledger.claimObject(...args);
  doneBatches: Database['doneBatches'] = (...args) => this.ledger.doneBatches(...args);
  recordIngested: Database['recordIngested'] = (...args) => this.ledger.recordIngested(...args);
  releaseObject: Database['releaseObject'] = (...args) => this.ledger.releaseObject(...args);

  recordRun: Database['recordRun'] = (...args) => this.runs.recordRun(...args);

  acquireLease: Database['acquireLease'] = (...args) => this.leases.acquireLease(...args);
  releaseLease: Database['releaseLease'] = (...args) => this.leases.releaseLease(...args);

  migrate: Database['migrate'] = () => this.migrator.migrate();

  status: Database['status'] = () => this.table.status();
}
