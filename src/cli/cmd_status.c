/* cmd_status.c — `nnx status DIR`: a search's trials, done, running, queued and failed, with their Slurm jobs. */
#include "cli/cli.h"
int cmd_status(int argc, char **argv) { (void)argc; (void)argv; return EXIT_BAD_INPUT; }
