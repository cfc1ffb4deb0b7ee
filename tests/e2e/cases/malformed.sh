# malformed: malformed images are refused with one clear line each, quickly
mkdir -p "$WORK/bad"
$B/tests/mkbad $G/hello.elf "$WORK/bad"
chmod -R a+rX "$WORK/bad"
for f in "$WORK"/bad/*.elf; do
	name=$(basename "$f" .elf)
	want=$(cat "$WORK/bad/$name.expect")
	start=$(date +%s%N)
	run "$f"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	lines=$(wc -l <"$WORK/err")
	if [ "$status" = 3 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$WORK/err" && [ "$ms" -lt 30000 ]; then
		ok "malformed image '$name' refused: $(cut -c1-100 "$WORK/err")"
	else
		not_ok "malformed image '$name'" "status $status, $lines lines, $ms ms" "$(cat "$WORK/err")"
	fi
done
no_guest_left "malformed images"
