/* file.c - reading a whole file (or its end) into memory, for the front
 * end's readers: guest images, ramdisks, xl configs, guest logs, --stats. */
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *read_rest(int fd, size_t size, size_t *len)
{
	char *buf = malloc(size + 1);
	size_t got = 0;

	while (buf && got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(buf);
			errno = err;
			return NULL;
		}
		if (!n)
			break; /* it shrank meanwhile: what there is */
		got += (size_t)n;
	}
	if (buf) {
		buf[got] = '\0';
		*len = got;
	}
	return buf;
}

char *vmm_read_file(const char *path, size_t max, int tail, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	struct stat st;
	char *buf = NULL;
	size_t size;

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
	} else if ((uint64_t)st.st_size > max && !tail) {
		err = EFBIG;
	} else {
		size = (uint64_t)st.st_size > max ? max : (size_t)st.st_size;
		if (size < (uint64_t)st.st_size && lseek(fd, st.st_size - (off_t)size, SEEK_SET) < 0)
			err = errno;
		else
			err = (buf = read_rest(fd, size, len)) ? 0 : errno;
	}
	close(fd);
	errno = err;
	return buf;
}
