/* mkbad - write the malformed variants of a guest image into a directory:
 * mkbad GOOD.elf DIR  ->  DIR/NAME.elf and DIR/NAME.expect for each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bad_elf.h"
#include "fixture.h"

static void write_file(const char *dir, const char *name, const char *ext,
		       const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkbad GOOD.elf DIR\n");
		return 2;
	}
	for (unsigned i = 0; i < bad_elves_count; i++) {
		size_t len;
		uint8_t *buf = fixture_read(argv[1], &len);
		bad_elves[i].mutate(buf, &len);
		write_file(argv[2], bad_elves[i].name, "elf", buf, len);
		write_file(argv[2], bad_elves[i].name, "expect", bad_elves[i].expect,
			   strlen(bad_elves[i].expect));
		free(buf);
	}
	return 0;
}
