#!/usr/bin/env node
// The `mmd` launcher. The CLI is TypeScript run from source (no build step in this repository),
// so register tsx's loader first, then load the real entry point.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/main.ts', import.meta.url).href);
