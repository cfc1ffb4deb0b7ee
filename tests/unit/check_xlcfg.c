/* check_xlcfg.c - the xl configuration reader: syntax, keys, xl's command
 * line, errors naming FILE:LINE, warnings, the options it makes; what
 * pvmm test expects of a run (expect_*) and how a run is judged by it. */
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
	ck_assert_uint_eq(c.nwarn, 0);
	ck_assert_uint_eq(c.ndisks, 2); /* x and y, relative to the file's folder */
	ck_assert_str_eq(c.disk[1].target, "dir/y");
}
END_TEST

/* xl's disk specifications (xl-disk-configuration(5)) as pvmm --disk. */
START_TEST(disks_as_xl)
{
	char buf[2048], *argv[16];

	ck_assert_int_eq(parse("disk = [ '/img/a.img,raw,xvda,rw', 'vdev=xvdc,access=ro,target=b.img',\n"
			       "  'format=raw, vdev=hda, access=r, target=/x/c,d.img',\n"
			       "  'phy:/dev/vg/guest,xvdd,w', '/e.img,,,ro', 'f.img' ]\n"), 0);
	ck_assert_uint_eq(c.ndisks, 6);
	ck_assert_str_eq(c.disk[0].target, "/img/a.img");
	ck_assert_str_eq(c.disk[0].vdev, "xvda");
	ck_assert_int_eq(c.disk[0].ro, 0);
	ck_assert_str_eq(c.disk[1].target, "dir/b.img");
	ck_assert_int_eq(c.disk[1].ro, 1);
	ck_assert_str_eq(c.disk[2].target, "/x/c,d.img"); /* target= takes the rest */
	ck_assert_str_eq(c.disk[2].vdev, "hda");
	ck_assert_int_eq(c.disk[2].ro, 1);
	ck_assert_str_eq(c.disk[3].target, "/dev/vg/guest"); /* the deprecated prefix form */
	ck_assert_str_eq(c.disk[3].vdev, "xvdd");
	ck_assert_int_eq(c.disk[4].ro, 1);
	ck_assert_str_eq(c.disk[4].vdev, "");
	ck_assert_int_eq(vmm_xlcfg_options(&c, buf, sizeof(buf), argv, 16), 6);
	ck_assert_str_eq(argv[0], "--disk=/img/a.img,vdev=xvda");
	ck_assert_str_eq(argv[1], "--disk=dir/b.img,ro,vdev=xvdc");
	ck_assert_str_eq(argv[5], "--disk=dir/f.img");
	ck_assert_int_eq(parse("disk = [ 'a.img,qcow2,xvda' ]\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "format 'qcow2'"));
	ck_assert_int_eq(parse("disk = [ 'a.img,raw,xvda,rw,extra' ]\n"), -EINVAL);
	ck_assert_int_eq(parse("disk = [ 'a.img,,hdc,cdrom' ]\n"), -EINVAL);
	ck_assert_int_eq(parse("disk = [ 'a.img,raw,floppy' ]\n"), -EINVAL);
	ck_assert_int_eq(parse("disk = [ 'a.img,raw,xvda,rx' ]\n"), -EINVAL);
	ck_assert_int_eq(parse("disk = [ 'target=b.img,vdev=xvdc' ]\n"), 0); /* as xl: all of it */
	ck_assert_str_eq(c.disk[0].target, "dir/b.img,vdev=xvdc");
	ck_assert_int_eq(parse("disk = [ 'vdev=xvda' ]\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no target"));
	ck_assert_int_eq(parse("disk = [ 'a.img,,xvda,,script=block' ]\n"), -EINVAL);
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

START_TEST(vif_is_user_networking)
{
	char buf[512], *argv[8];

	ck_assert_int_eq(parse("vif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0', '' ]\n"), 0);
	ck_assert_str_eq(c.net, "user,mac=00:16:3e:12:34:56");
	ck_assert_uint_eq(c.nwarn, 2); /* the second vif, the bridge */
	ck_assert_int_eq(vmm_xlcfg_options(&c, buf, sizeof(buf), argv, 8), 1);
	ck_assert_str_eq(argv[0], "--net=user,mac=00:16:3e:12:34:56");
	ck_assert_int_eq(parse("vif = [ '' ]\n"), 0);
	ck_assert_str_eq(c.net, "user");
	ck_assert_int_eq(parse("vif = []\n"), 0);
	ck_assert_str_eq(c.net, "");
	ck_assert_int_eq(parse("vif = [ 'mac=nonsense' ]\n"), -EINVAL);
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

START_TEST(expect_keys)
{
	ck_assert_int_eq(parse("expect = crash\nexpect_log = [ \"^a$\", 'b c',\n  \"d\" ]\n"
			       "expect_no_log = \"host let it through\"\n"
			       "expect_count = [ \"^refused: >= 30\", \"^P0 step  == 4\" ]\n"
			       "expect_stat = [ \"traps.page_fault >= ptwr.emulated\", \"invariant_checks > 19\",\n"
			       "  \"0 == mmu.deferred_fills\" ]\nconsole_input = \"ping pong\\n\"\n"), 0);
	ck_assert_int_eq(c.expect.status, 1);
	ck_assert_uint_eq(c.expect.log.n, 3);
	ck_assert_str_eq(c.expect.log.item[1], "b c");
	ck_assert_uint_eq(c.expect.no_log.n, 1);
	ck_assert_uint_eq(c.expect.count.n, 2);
	ck_assert_uint_eq(c.expect.stat.n, 3);
	ck_assert_int_eq(c.has_console_input, 1);
	ck_assert_str_eq(c.console_input, "ping pong\n");
	ck_assert_int_eq(parse("expect_log = \"\"\n"), 0); /* "" is none, as before */
	ck_assert_uint_eq(c.expect.log.n, 0);
	ck_assert_int_eq(c.expect.status, -1);
	ck_assert_int_eq(c.has_console_input, 0);
}
END_TEST

START_TEST(expect_errors)
{
	ck_assert_int_eq(parse("\nexpect_log = [ \"ok\", \"(\" ]\n"), -EINVAL);
	ck_assert_str_eq(why, "dir/g.cfg:2: expect_log: '(': not a regular expression");
	ck_assert_int_eq(parse("expect_count = \"^refused: 30\"\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "g.cfg:1: expect_count: '^refused: 30': want REGEX OP N"));
	ck_assert_int_eq(parse("expect_count = \">= 30\"\n"), -EINVAL);   /* no regex */
	ck_assert_int_eq(parse("expect_count = \"x >= many\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_count = \"x => 3\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_stat = \"1 < 2\"\n"), -EINVAL);    /* no counter */
	ck_assert_int_eq(parse("expect_stat = \"a b >= 2\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_stat = \"ptwr. >= 2\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_stat = \"Traps >= 2\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_stat = \"ptwr.emulated >= -2\"\n"), -EINVAL);
	ck_assert_int_eq(parse("expect_log = [ 'a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a','a' ]\n"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "expect_log: 17 entries, at most 16"));
}
END_TEST

static const char stats[] =
	"{\n  \"end\": \"poweroff\",\n  \"wall_seconds\": 0.031205,\n"
	"  \"traps\": {\"hypercall\": 34, \"page_fault\": 22},\n"
	"  \"trap_time_ns\": {\"hypercall\": {\"total\": 451379, \"mean\": 13275}},\n"
	"  \"ptwr\": {\"mode\": \"a,}\\\"b\", \"emulated\": 14, \"resyncs\": {\"fault\": 3}, \"unhooks\": 5},\n"
	"  \"privops\": -1,\n  \"invariant_checks\": 0\n}\n";

START_TEST(stats_lookup)
{
	long long v = 99;

	ck_assert_int_eq(vmm_xlcfg_stat(stats, "traps.page_fault", &v), 0);
	ck_assert_int_eq(v, 22);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "trap_time_ns.hypercall.mean", &v), 0);
	ck_assert_int_eq(v, 13275);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "ptwr.unhooks", &v), 0); /* past a string with , } \" */
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "invariant_checks", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "privops", &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "hypercall", &v), -ENOENT); /* only at the top */
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "ptwr.nothing", &v), -ENOENT);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "wall_seconds", &v), -EINVAL);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "end", &v), -EINVAL);
	ck_assert_int_eq(vmm_xlcfg_stat(stats, "traps", &v), -EINVAL);
	ck_assert_int_eq(vmm_xlcfg_stat("{\"a\": 1, \"b\"", "b", &v), -EINVAL);
	ck_assert_int_eq(vmm_xlcfg_stat("{\"a\": {\"b\": 1", "c", &v), -EINVAL);
	ck_assert_int_eq(vmm_xlcfg_stat("", "a", &v), -EINVAL);
}
END_TEST

/* Judge (log) and (st) by the .cfg text (cfg); the why in (out). */
static int judge(const char *cfg, const char *log, const char *st, char *out, size_t len)
{
	FILE *f = fmemopen((void *)log, strlen(log), "r");
	int rc;

	ck_assert_int_eq(parse(cfg), 0);
	rc = vmm_xlcfg_judge(&c.expect, f, st, out, len);
	fclose(f);
	return rc;
}

START_TEST(judging)
{
	static const char log[] = "hello\nrefused: 1\nrefused: 2\npvmm: the end\n";
	static const char cfg[] = "expect_log = [ '^hello$', 'end$' ]\nexpect_no_log = 'let it through'\n"
				  "expect_count = [ '^refused: == 2', '^pvmm: <= 1' ]\n"
				  "expect_stat = [ 'traps.page_fault >= ptwr.emulated', 'ptwr.emulated == 14' ]\n";
	char out[512], small[40];

	ck_assert_int_eq(judge(cfg, log, stats, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(judge("expect_log = [ 'hello', 'bye' ]\nexpect_no_log = 'refused'\n"
			       "expect_count = '^refused >= 3'\n", log, NULL, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "no line of its log matches expect_log /bye/; a line of its log matches "
			      "expect_no_log /refused/: refused: 1; expect_count '^refused >= 3': 2 lines match");
	ck_assert_int_eq(judge("expect_stat = [ 'ptwr.emulated > traps.page_fault', 'traps.hypercall < 30',"
			       " '40 <= ptwr.unhooks', 'ptwr.none == 1', 'end == 1' ]\n", log, stats, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "expect_stat 'ptwr.emulated > traps.page_fault': ptwr.emulated is 14, "
			      "traps.page_fault is 22; expect_stat 'traps.hypercall < 30': traps.hypercall is 34; "
			      "expect_stat '40 <= ptwr.unhooks': ptwr.unhooks is 5; expect_stat 'ptwr.none == 1': "
			      "ptwr.none is not a counter in --stats; expect_stat 'end == 1': end is not a whole "
			      "number in --stats");
	ck_assert_int_eq(judge("expect_stat = 'privops < 0'\n", log, NULL, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "expect_stat 'privops < 0': no --stats output");
	/* a why too small is cut, never overrun */
	ck_assert_int_eq(judge("expect_log = [ 'bye', 'ciao' ]\n", log, NULL, small, sizeof(small)), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	/* a long line counts once */
	char big[6000];
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n', big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(judge("expect_count = 'x == 1'\n", big, NULL, out, sizeof(out)), 0);
}
END_TEST

/* A regex from a .cfg cannot make glibc's regcomp take gigabytes: stacked
 * and nested repetitions that multiply the pattern too far are refused
 * (fuzz_xlcfg found "H++++..." taking 2 GiB), ordinary ones compile. */
START_TEST(regex_blowup_refused)
{
	regex_t re;
	char many[200];

	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, "^Test result: (SUCCESS|SKIP)[a-z]+ [0-9]{1,3}$"), 0);
	regfree(&re);
	memset(many, '+', sizeof(many));
	many[0] = 'H', many[sizeof(many) - 1] = '\0';
	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, many), -E2BIG);
	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, "((a{255}){255}){255}"), -E2BIG);
	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, "a{99999}"), -E2BIG);
	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, "a\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+"), 0);
	regfree(&re);
	ck_assert_int_eq(vmm_xlcfg_regcomp(&re, "("), -EINVAL);
}
END_TEST

Suite *xlcfg_suite(void)
{
	Suite *s = suite_create("xlcfg");
	TCase *t = tcase_create("xlcfg");

	tcase_add_test(t, syntax);
	tcase_add_test(t, disks_as_xl);
	tcase_add_test(t, cmdline_as_xl);
	tcase_add_test(t, paths_relative_to_the_file);
	tcase_add_test(t, errors_name_file_and_line);
	tcase_add_test(t, warnings);
	tcase_add_test(t, vif_is_user_networking);
	tcase_add_test(t, options);
	tcase_add_test(t, expect_keys);
	tcase_add_test(t, expect_errors);
	tcase_add_test(t, stats_lookup);
	tcase_add_test(t, judging);
	tcase_add_test(t, regex_blowup_refused);
	suite_add_tcase(s, t);
	return s;
}
