/* fuzz_xlcfg - xl configuration files nobody vetted: any bytes through the
 * reader, then the pvmm options it makes. It must accept or refuse with
 * one line naming the file and the line, never misbehave (ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xlcfg c;
	char why[XLCFG_WHY], buf[4096], *argv[64];
	int rc = vmm_xlcfg_parse("dir/fuzz.cfg", (const char *)data, size, &c, why);

	if (rc) {
		if (strncmp(why, "dir/fuzz.cfg:", 13) || !memchr(why, '\0', sizeof(why)))
			abort(); /* a refusal names the file and the line */
		return 0;
	}
	if (c.nwarn > XLCFG_MAX_WARN || strlen(c.cmdline) >= sizeof(c.cmdline))
		abort();
	rc = vmm_xlcfg_options(&c, buf, sizeof(buf), argv, 64);
	for (int i = 0; i < rc; i++)
		if (strncmp(argv[i], "--", 2) && !c.pvmm_options[0])
			abort(); /* only pvmm_options can give words that are no options */
	return 0;
}
