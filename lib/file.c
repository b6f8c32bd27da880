/* Files replaced whole: a reader sees the old one or the new one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ozon-etl.h"

int
write_atomic(const char *path, const char *p, size_t n, int mode, char *err,
    size_t errlen)
{
	struct buf tmp = { NULL, 0, 0 };
	size_t off = 0;
	ssize_t w;
	int fd, rc = -1;

	buf_adds(&tmp, path);
	buf_adds(&tmp, ".tmp");
	buf_addc(&tmp, '\0');
	/* the mode whatever the umask: the reader is often another user */
	if ((fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1 || fchmod(fd, (mode_t)mode) == -1) {
		snprintf(err, errlen, "%s: %s", tmp.p, strerror(errno));
		goto fail;
	}
	while (off < n && ((w = write(fd, p + off, n - off)) > 0 ||
	    (w == -1 && errno == EINTR)))
		off += w > 0 ? (size_t)w : 0;
	if (off < n || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp.p, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp.p, path) == -1) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp.p);
out:
	buf_free(&tmp);
	return rc;
}
