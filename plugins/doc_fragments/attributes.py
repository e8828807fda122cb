# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment(object):

    # Attributes every module shares; modules add the support level of
    # check_mode and diff_mode themselves.
    DOCUMENTATION = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/improvmx.email.improvmx) in C(module_defaults) to set the connection options of all the collection's modules at once.
    support: full
    membership:
      - improvmx.email.improvmx
  check_mode:
    description: Can run in C(check_mode) and report what would change without changing anything.
  diff_mode:
    description: Returns the state before and after the change when run with C(--diff).
'''

    # For modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads from the API, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - This module never changes anything, so there is nothing to diff.
'''
