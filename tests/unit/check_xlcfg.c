/* check_xlcfg.c - the xl configuration reader: syntax, keys, xl's command
 * line, errors naming FILE:LINE, warnings, the options it makes. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "vmm/xlcfg.h"

static struct xlcfg c;
static char why[XLCFG_WHY];

static int parse(const char *text)
{
	memset(why, 0, sizeof(why));
	return vmm_xlcfg_parse("dir/g.cfg", text, strlen(text), &c, why);
}

START_TEST(syntax)
{
	ck_assert_int_eq(parse("# comment\n\nname = \"a\"; memory = 0x40 # trailing\n"
			       "disk = [ 'x',\n  \"y\", ]\ncmdline = 'it''s'\n"), -EINVAL);
	ck_assert_int_eq(parse("name = \"a\"; memory = 0x40 # trailing\n"
			       "disk = [ 'x',\n  \"y\", ]\ncmdline = \"say \\\"hi\\\"\"\n"), 0);
	ck_assert_str_eq(c.name, "a");
	ck_assert_uint_eq(c.memory_mib, 64);
	ck_assert_str_eq(c.cmdline, "say \"hi\"");
	ck_assert_uint_eq(c.nwarn, 1); /* the disks */
	ck_assert_ptr_nonnull(strstr(c.warn[0], "dir/g.cfg:2: disk:"));
}
END_TEST

START_TEST(cmdline_as_xl)
{
	ck_assert_int_eq(parse("root = \"/dev/xvda\"\nextra = \"ro\"\n"), 0);
	ck_assert_str_eq(c.cmdline, "root=/dev/xvda ro");
	ck_assert_int_eq(parse("root = \"/dev/xvda\"\n"), 0);
	ck_assert_str_eq(c.cmdline, "root=/dev/xvda");
	ck_assert_int_eq(parse("extra = \"quiet\"\n"), 0);
	ck_assert_str_eq(c.cmdline, "quiet");
	ck_assert_int_eq(parse("extra = \"x\"\ncmdline = \"given\"\n"), 0);
	ck_assert_str_eq(c.cmdline, "given");
	ck_assert_uint_eq(c.nwarn, 1);
	ck_assert_int_eq(parse("memory = 8\n"), 0);
	ck_assert_int_eq(c.has_cmdline, 0);
}
END_TEST

START_TEST(paths_relative_to_the_file)
{
	ck_assert_int_eq(parse("kernel = \"k.elf\"\nramdisk = '/abs/rd'\n"), 0);
	ck_assert_str_eq(c.kernel, "dir/k.elf");
	ck_assert_str_eq(c.ramdisk, "/abs/rd");
}
END_TEST

START_TEST(errors_name_file_and_line)
{
	ck_assert_int_eq(parse("\n\nmemory = \"lots\"\n"), -EINVAL);
	ck_assert_str_eq(why, "dir/g.cfg:3: memory: 'lots' is not a number of MiB (1 to 65536)");
	ck_assert_int_eq(parse("vcpus = 2\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "g.cfg:1: vcpus: 2: pvmm runs one vCPU"));
	ck_assert_int_eq(parse("timeout = 0\n"), -EINVAL);
	ck_assert_int_eq(parse("timeout = -1\n"), -EINVAL);
	ck_assert_int_eq(parse("type = \"hvm\"\n"), -EINVAL);
	ck_assert_int_eq(parse("name = \"unterminated\n"), -EINVAL);
	ck_assert_str_eq(why, "dir/g.cfg:1: name: string not closed on its line");
	ck_assert_int_eq(parse("disk = [ 'a'\n"), -EINVAL);
	ck_assert_int_eq(parse("memory = 32 64\n"), -EINVAL);
	ck_assert_int_eq(parse("= 3\n"), -EINVAL);
	ck_assert_int_eq(parse("on_crash = \"explode\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect = explode\n"), -EINVAL);
}
END_TEST

START_TEST(warnings)
{
	ck_assert_int_eq(parse("expext = 1\nvif = [ 'bridge=xenbr0' ]\non_crash = 'restart'\n"
			       "vif = []\ndisk = ''\n"), 0);
	ck_assert_uint_eq(c.nwarn, 3);
	ck_assert_str_eq(c.warn[0], "dir/g.cfg:1: unknown key 'expext' ignored");
	for (int i = 0; i < 40; i++) /* more than fit are dropped, never overflow */
		ck_assert_int_eq(parse("a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\nj=10\n"), 0);
	ck_assert_uint_eq(c.nwarn, XLCFG_MAX_WARN);
}
END_TEST

START_TEST(options)
{
	char buf[512], *argv[8];

	ck_assert_int_eq(parse("memory = 32\nextra = \"a b\"\nramdisk = \"rd\"\nname = \"n\"\n"
			       "pvmm_options = \"--ptwr=unhook  --stats\"\ntimeout = 5\n"), 0);
	ck_assert_int_eq(vmm_xlcfg_options(&c, buf, sizeof(buf), argv, 8), 6);
	ck_assert_str_eq(argv[0], "--memory=32M");
	ck_assert_str_eq(argv[1], "--cmdline=a b");
	ck_assert_str_eq(argv[2], "--ramdisk=dir/rd");
	ck_assert_str_eq(argv[3], "--name=n");
	ck_assert_str_eq(argv[4], "--ptwr=unhook");
	ck_assert_str_eq(argv[5], "--stats");
	ck_assert_uint_eq(c.timeout, 5);
	ck_assert_int_eq(vmm_xlcfg_options(&c, buf, 20, argv, 8), -E2BIG);
	ck_assert_int_eq(vmm_xlcfg_options(&c, buf, sizeof(buf), argv, 3), -E2BIG);
}
END_TEST

Suite *xlcfg_suite(void)
{
	Suite *s = suite_create("xlcfg");
	TCase *t = tcase_create("xlcfg");

	tcase_add_test(t, syntax);
	tcase_add_test(t, cmdline_as_xl);
	tcase_add_test(t, paths_relative_to_the_file);
	tcase_add_test(t, errors_name_file_and_line);
	tcase_add_test(t, warnings);
	tcase_add_test(t, options);
	suite_add_tcase(s, t);
	return s;
}
