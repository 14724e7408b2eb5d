/* cli.h — the commands of the nnx binary, one file each (cmd_NAME.c).
 *
 * Each command gets the arguments after its name (argv[0] is the command
 * name) and returns the process exit status: 0 success, 1 a run failed,
 * 2 bad input (file, flags).  Commands print; nothing below them does.
 */
#ifndef NNX_CLI_H
#define NNX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nnx/model.h"

#define NNX_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_BAD_INPUT = 2 };

typedef int (*nnx_command_fn)(int argc, char **argv);

/* One line per command, in the order `nnx help` lists them. */
int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_lr_find(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_data(int argc, char **argv);

/* --- shared by the commands that take FILE [NAME] [--set path=value]... --- */

struct nnx_override;
struct nnx_experiment;

/* The winning values of a finished search, to apply before the --set flags
 * (`nnx run FILE NAME --from DIR`).  Owns the texts the overrides point at. */
typedef struct cli_from {
    struct nnx_json *summary;
    char   **texts;
    size_t   ntexts;
    char    *origin;              /* "DIR/summary.json", how errors name them */
    const char *winner;           /* the winning trial's name */
} cli_from;

/* Read DIR/summary.json of a search and append its winner_params to sets
 * (in the order the search lists them); from->origin is "DIR/summary.json",
 * for errors.  -1 after printing "nnx CMD: ..." (not a search directory, a
 * search without a winner, too many settings). */
int  cli_from_search(const char *cmd, const char *dir, struct nnx_override *sets, size_t *nsets,
                     size_t max, cli_from *from);
void cli_from_free(cli_from *from);

/* --from DIR or --from=DIR at argv[*i]: 1 (dir set, *i past it), 0 when
 * argv[*i] is another argument, -1 after printing "nnx CMD: ...". */
int  cli_from_flag(const char *cmd, int argc, char **argv, int *i, const char **dir);
/* A positional argument of `nnx CMD FILE [NAME]`: the first is FILE, the
 * second NAME; a third is told on stderr and gives -1. */
int  cli_file_and_name(const char *cmd, const char *arg, const char **file, const char **name);

/* The overrides a command checks with: the winning values of the search in
 * `dir` (none when dir is NULL), then the --set flags, so a flag can change
 * a winning value.  all and origins hold 2 * CLI_MAX_SETS entries;
 * origins[k] is from->origin for a winning value and NULL for a flag.
 * -1 after printing (see cli_from_search); from is then freed. */
int  cli_from_merge(const char *cmd, const char *dir, const struct nnx_override *sets, size_t nsets,
                    struct nnx_override *all, const char **origins, size_t *nall, cli_from *from);

/* "from        DIR: the winner NAME, path=value ...": what --from applied
 * (all: as cli_from_merge filled it). */
void cli_from_say(FILE *f, const char *dir, const cli_from *from, const struct nnx_override *all);

/* A program loaded and one experiment of it checked.  Owns all three. */
typedef struct cli_loaded {
    struct nnx_program *program;
    struct nnx_checker *checker;
    struct nnx_experiment *e;
} cli_loaded;

/* Load FILE and check experiment NAME with the overrides (origins[i] names
 * where override i came from in errors; NULL or a NULL entry: "--set"), printing
 * every diagnostic (warnings too) to stderr; on errors also "FILE: N errors;
 * nothing was trained".  The experiment, or NULL (then l is freed). */
struct nnx_experiment *cli_load_experiment(const char *cmd, const char *file, const char *name,
                                           const struct nnx_override *sets,
                                           const char *const *origins, size_t nsets,
                                           cli_loaded *l);
void cli_loaded_free(cli_loaded *l);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* experiments in git */
int cmd_runs(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* `--set path=value` (or `--set=path=value`) at argv[*i], for every command
 * that checks an experiment (check, plan, run): 1 when it is one (stored in
 * sets[*nsets]; *i moved past its value), 0 when argv[*i] is something else,
 * -1 after printing why it is malformed (the command exits 2). */
enum { CLI_MAX_SETS = 64 };
struct nnx_override;
int cli_set_flag(const char *cmd, int argc, char **argv, int *i, struct nnx_override *sets,
                 size_t *nsets);

/* Print "nnx CMD: unknown option 'ARG'", with the one of `known` it most
 * plausibly means ("did you mean '--out'?"). */
void cli_unknown_flag(const char *cmd, const char *arg, const char *const *known, size_t n);

/* The parsed-data cache directory of the commands that load data (run,
 * lr-find, data): NULL with no_cache (--no-cache), else $NNX_CACHE, else
 * $XDG_CACHE_HOME/nnx, else $HOME/.cache/nnx (NULL when neither is set).
 * malloc'd. */
char *cli_data_cache_dir(bool no_cache);

/* After a report/diagnose error on DIR: if DIR holds run directories (runs/), name them. */
void cli_hint_rundirs(const char *cmd, const char *dir);

/* The Lua stdlib (nnx/metrics.lua): lua/ in the stdlib directory the
 * program's imports were resolved against.  NULL if none; malloc'd.
 * In model_data.c. */
struct nnx_program;
char *cli_lua_stdlib(const struct nnx_program *p);

/* model_data.c: the model of a run, search or ensemble directory on
 * `threads` threads, or NULL after printing "nnx CMD: why". */
nnx_model *cli_model_open(const char *cmd, const char *run, int threads);
/* Rows of DATA for m: an IDX images file (with its labels file when
 * want_labels) or a CSV file (its label column when want_labels; columns
 * the model does not read are noted once on stderr).  0, or -1 after
 * printing why. */
int cli_model_rows(const char *cmd, const nnx_model *m, const char *data, const char *labels,
                   bool want_labels, bool no_cache, nnx_dataset *out);

#endif
