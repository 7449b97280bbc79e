/* headertest.c — reclaim.h must compile alone as strict C99
 * (-std=c99 -Wall -Wextra -pedantic -Werror). */
#include <reclaim/reclaim.h>

int main(void) {
  reclaim_event ev = RECLAIM_EVENT_INIT;
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  return (int)(ev.struct_size + o.struct_size + c.struct_size) == 0;
}
