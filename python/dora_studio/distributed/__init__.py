"""Multi-process training: which process this is (env), its process group and collectives (group), the student under
DistributedDataParallel (ddp), and Slurm's host lists (hostlist)."""
