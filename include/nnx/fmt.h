/* fmt.h — the canonical layout of an .nnx file (`nnx fmt`).
 *
 * The layout, chosen once so that diffs stay small:
 *   - 4-space indentation; one setting per line; blocks (`schedule { }`,
 *     `ensemble { }`, `search ... { }`) always open onto their own lines;
 *     an empty block is written `{}`.
 *   - `=`, `+=` and `in` line up within a run of consecutive settings (or
 *     `let`s) that no blank line or comment line interrupts.
 *   - Network layers keep the lines the user gave them: layers written on
 *     one line stay on one line, two spaces apart.  Consecutive lines that
 *     repeat the same layers (`dense(w) batchnorm swish` twice) line up in
 *     columns.  A `repeat(n) { ... }` written on one line stays inline;
 *     otherwise it is a block.
 *   - A call or list that would pass column 88 is broken one argument per
 *     line, aligned after its '(' or '['; so is one with a comment between
 *     its arguments (the comment stays at the end of that argument's line).
 *   - Numbers are printed as written; strings with the escapes \" \\ \n \t;
 *     redundant parentheses are dropped; `;` and `,` separators are dropped.
 *   - Comments stay where they were: on their own line or after the code of
 *     a line (trailing comments on consecutive lines are lined up).  A
 *     comment inside an expression that is printed on one line moves to its
 *     own line just above the statement.
 *   - At most one blank line is kept wherever the user left blank lines;
 *     top-level data, network and experiment blocks are always separated
 *     by one.
 * Formatting is idempotent: formatting its own output changes nothing.
 */
#ifndef NNX_FMT_H
#define NNX_FMT_H

#include "nnx/ast.h"

/* The whole file in canonical layout (a new string the caller frees; it
 * ends in a newline unless empty).  The file should have parsed without
 * syntax errors.  NULL only when out of memory. */
char *nnx_fmt_file(const nnx_file *f);

/* One expression on one line, as nnx_fmt_file would print it (a new
 * string the caller frees; NULL when out of memory). */
char *nnx_fmt_expr(const nnx_expr *e);

#endif
