#!/bin/sh
echo "server listening with $(cat "$0.runfiles/_main/rules_img_compat/config.json" 2>/dev/null)"
