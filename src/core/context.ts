// What every engine module needs: the time of the current input, randomness,
// the settings, and a way to emit outputs. Passed explicitly so each module
// stays a set of plain functions over the model.

import type { AllTargetsLostPolicy } from '../config/types.js';
import type { EngineOutput } from './types.js';

export interface EngineSettings {
  failback: boolean;
  onAllTargetsLost: AllTargetsLostPolicy;
}

export interface EngineContext {
  now: number;
  /** Uniform in [0, 1). */
  random: () => number;
  settings: EngineSettings;
  /** Every address configured on this host (never a probe target). */
  ownAddresses: ReadonlySet<string>;
  emit: (output: EngineOutput) => void;
}
