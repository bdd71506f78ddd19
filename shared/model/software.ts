// Versions of the software that produced a model, recorded in every artifact.

import manifest from '../../package.json' with { type: 'json' };

export const SOFTWARE = {
  package: manifest.name,
  packageVersion: manifest.version,
  mlKMeans: manifest.dependencies['ml-kmeans'],
} as const;
