#!/bin/sh
# The UPDATE case table against Knot DNS as the primary: the differential
# of issue 7. Where Knot departs from RFC 2136 / RFC 8945 the case says
# so with the section, and zonelet's suite (test_update_cases.sh) expects
# the RFC's answer instead.
PRIMARY=knot exec sh "$(dirname "$0")/test_update_cases.sh"
