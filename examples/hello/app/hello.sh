#!/bin/sh
# The example image's entrypoint.
echo "${GREETING:-hello} from img"
