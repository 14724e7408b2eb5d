/* fs.c — file-system chores of a search: does a path exist, rm -rf. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search/search_int.h"

bool srch_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int srch_remove_tree(const char *path, nnx_rt_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : nnx_rt_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return nnx_rt_fail(err, "cannot open directory %s: %s", path, strerror(errno));
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *child = nnx_path_join(path, e->d_name);
            rc = child ? srch_remove_tree(child, err) : nnx_rt_fail(err, "out of memory");
            free(child);
        }
        closedir(d);
        if (rc)
            return rc;
        if (rmdir(path) != 0)
            return nnx_rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
        return 0;
    }
    if (unlink(path) != 0)
        return nnx_rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}
