/* fuzz_io.h — what every fuzz target shares: its own scratch directory and writing an input there.
 *
 * The readers under test take paths, so a target writes its input to a file
 * in a directory of its own (under $NNX_FUZZ_TMP when set, else /dev/shm
 * when there is one, else $TMPDIR or /tmp), made once per process and removed
 * at exit.  A process that crashes leaves its directory: tests/fuzz/run.sh
 * sets NNX_FUZZ_TMP to a directory it removes after each target.  Nothing
 * else on the machine is written.
 */
#ifndef NNX_FUZZ_IO_H
#define NNX_FUZZ_IO_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry points (also called by the replay driver, replay.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch directory of this process (created on first use; aborts when
 * it cannot be, since no input can be tried without it). */
const char *fuzz_dir(void);
/* fuzz_dir()/name as a new string (aborts when out of memory). */
char *fuzz_path(const char *name);
/* Write data[0..size) to fuzz_dir()/name, creating parent directories;
 * returns the path (a new string), or NULL when it cannot be written (a
 * parent is a file, the name is a directory). */
char *fuzz_write(const char *name, const void *data, size_t size);
/* Empty fuzz_dir() (every file and directory in it). */
void fuzz_clear(void);

#endif
