#!/usr/bin/env node
// The `segments` executable: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./segments.ts');
