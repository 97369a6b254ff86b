#!/bin/sh
# Prints the greeting shipped next to the script in its runfiles tree.
here="$0.runfiles/_main/shell_app"
[ -d "$here" ] || here="$0.runfiles/img_examples/shell_app"
printf '%s\n' "$(cat "$here/greeting.txt")"
