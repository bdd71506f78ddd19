// The custom metrics the functions emit and the alarms watch: one list, imported by both sides,
// so a renamed metric cannot silently disable an alarm.

/** CloudWatch namespace of every custom metric (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'CustomerSegmentation';
/** The `service` dimension Powertools adds (POWERTOOLS_SERVICE_NAME of the deployed functions). */
export const SERVICE_NAME = 'customer-segmentation';

/** Metric names, by function. */
export const METRIC = {
  /** assign: 1 per run that did its job (including "no new customers" and "no active model"). */
  successfulRuns: 'SuccessfulRuns',
  pending: 'Pending',
  labeled: 'Labeled',
  outliers: 'Outliers',
  durationMs: 'DurationMs',
  maxPsi: 'MaxPsi',
  assignedOutlierRate: 'AssignedOutlierRate',
  assignedShare: 'AssignedShare',
  /** assign: 1 when a nightly run recommends retraining. */
  retrainRecommended: 'RetrainRecommended',
  /** ingest */
  rowsRead: 'RowsRead',
  rowsRejected: 'RowsRejected',
  filesIngested: 'FilesIngested',
  /** ingest: an uploaded customers file that could not be read as the contract. */
  filesFailed: 'FilesFailed',
  /** train */
  trainingFilesTrained: 'TrainingFilesTrained',
  /** train: an uploaded training file that could not be trained on. */
  trainingFilesFailed: 'TrainingFilesFailed',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];
