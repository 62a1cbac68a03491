#!/bin/sh
# Cortex runs this with the job directory as its argument; iocane must be
# on the PATH of the Cortex process (or set IOCANE_BIN to its path).
exec "${IOCANE_BIN:-iocane}" cortex "$@"
