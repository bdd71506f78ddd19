#!/usr/bin/env node
// The `segments` executable under its former name, for scripts that still call it: runs the bin,
// segments.cjs (through Node's ES module loader, so `help` starts slower than with the bin itself).
import './segments.cjs';
