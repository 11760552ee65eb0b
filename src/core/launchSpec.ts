// The config spec of the launcher keys (`runtime.launcher`, `runtime.distributed`, `runtime.slurm`; docs/launchers.md),
// kept beside configSpec.ts, which spreads it into `runtime`.

import type { ConfigSections } from './configDefaults';
import { LAUNCHERS } from './configDefaults';
import type { NumberSpec, ObjectSpec } from './specTypes';

type Runtime = ConfigSections['runtime'];

const positiveInt = (doc: string): NumberSpec => ({ kind: 'number', integer: true, minimum: 1, doc });

export const LAUNCH_SPEC: Pick<ObjectSpec<Runtime>['fields'], 'launcher' | 'distributed' | 'slurm'> = {
  launcher: {
    kind: 'enum',
    values: LAUNCHERS,
    doc:
      'PyTorch engine only: how its processes start. `local`: one process. `torchrun`: `runtime.distributed.nproc` ' +
      'processes per node through torchrun (torch ≥ 2.0). `slurm`: a batch job (`sbatch`) of `runtime.distributed.nodes` ' +
      'nodes × `nproc` tasks started by `srun`, one per GPU, with `runtime.slurm` settings. Every process trains the same ' +
      'model (DDP); rank 0 writes the run folder. See docs/launchers.md.',
  },
  distributed: {
    kind: 'object',
    doc:
      'PyTorch engine, `torchrun` and `slurm` launchers: the processes of the run. The global batch is ' +
      '`training.batchClips` × processes, and the official linear lr scaling uses it.',
    fields: {
      nproc: positiveInt('Processes per node: one per GPU (on CPUs, each process gets its share of the cores).'),
      nodes: positiveInt('Nodes. With `torchrun` on more than one node, run the printed command on every node.'),
    },
  },
  slurm: {
    kind: 'object',
    doc: 'PyTorch engine, `slurm` launcher: the batch script written into the run folder (`slurm/job-N.sbatch`).',
    fields: {
      partition: { kind: 'string', nullable: true, example: 'gpu', doc: '`#SBATCH --partition`. null: the cluster default.' },
      time: {
        kind: 'string',
        nullable: true,
        example: '24:00:00',
        doc:
          '`#SBATCH --time` (minutes, `HH:MM:SS` or `D-HH:MM:SS`). Two minutes before it the run checkpoints and stops ' +
          '(`--signal=USR1@120`); resume it with a new job. null: the partition default.',
      },
      account: { kind: 'string', nullable: true, example: 'myproject', doc: '`#SBATCH --account`. null: your default account.' },
      gpusPerNode: {
        kind: 'number',
        integer: true,
        minimum: 0,
        nullable: true,
        doc: '`#SBATCH --gres=gpu:N`. null: one GPU per process (`distributed.nproc`), none when `runtime.device` is `cpu`.',
      },
      extraSbatch: {
        kind: 'stringList',
        example: '#SBATCH --cpus-per-task=8',
        doc:
          'More lines for the script header, each starting with `#SBATCH ` (e.g. `--qos`, `--constraint`, ' +
          '`--cpus-per-task`, `--mem`).',
      },
      setup: {
        kind: 'string',
        nullable: true,
        example: 'module load cuda/12.4 && source ~/venvs/dora/bin/activate',
        doc:
          'One shell line run on the compute node before the engine (modules, conda/venv). With it the job runs ' +
          '`python3` of the environment it sets up (unless `DORA_PYTHON` is set there); without it, the interpreter found ' +
          'where the job was submitted. It is shell code: only start runs from configs you trust.',
      },
    },
  },
};
