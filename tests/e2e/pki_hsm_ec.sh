#!/usr/bin/env bash
# The CA key (EC P-256) in a SoftHSM2 token, the PIN from a file
# (pin-source): see tests/lib/hsm.sh.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/hsm.sh"
hsm_skip_unless_available
hsm_scenario ec
