# install: make install and uninstall, and the man page
if nested; then
	diag "not in the rerun as nobody: its copy of the tree has no Makefile"
	return 0
fi
make -s install BUILD="$B" DESTDIR="$WORK/dest" PREFIX=/usr >/dev/null 2>&1
missing=""
for f in bin/pvmm share/man/man1/pvmm.1 share/pvmm/guests/hello.elf share/pvmm/guests/ptwr.elf; do
	[ -s "$WORK/dest/usr/$f" ] || missing="$missing $f"
done
[ -x "$WORK/dest/usr/bin/pvmm" ] || missing="$missing (pvmm not executable)"
"$WORK/dest/usr/bin/pvmm" "$WORK/dest/usr/share/pvmm/guests/hello.elf" >/dev/null 2>&1 || missing="$missing (installed hello failed)"
[ -z "$missing" ] && ok "make install DESTDIR=... puts pvmm, its guests and the man page in place" ||
	not_ok "make install:$missing"
make -s uninstall BUILD="$B" DESTDIR="$WORK/dest" PREFIX=/usr >/dev/null 2>&1
[ -z "$(find "$WORK/dest" -type f)" ] && ok "make uninstall removes them" || not_ok "make uninstall left files"
undocumented=""
for opt in $( { "$PVMM" --help; "$PVMM" test --help; } | grep -o -- '--[a-z-]*' | sort -u); do
	grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" docs/pvmm.1 || undocumented="$undocumented $opt"
done
for opt in $( { "$PVMM" --help; "$PVMM" test --help; } | grep -oE -- '^  -[a-zA-Z]' | sort -u); do
	grep -qE -- "\\\\-${opt#-}([^a-zA-Z-]|\$)" docs/pvmm.1 || undocumented="$undocumented $opt"
done
[ -z "$undocumented" ] && ok "the man page documents every option of --help" || not_ok "pvmm.1 lacks:$undocumented"
