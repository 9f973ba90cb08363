#!/usr/bin/env bash
# The CA key (RSA 2048) in a SoftHSM2 token, the PIN in the URI (pin-value):
# see tests/lib/hsm.sh.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/hsm.sh"
hsm_skip_unless_available
hsm_scenario rsa
