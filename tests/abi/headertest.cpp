// headertest.cpp — reclaim.h must compile as C++ too, with the same
// initialisers a C host uses.
#include <reclaim/reclaim.h>

int main() {
  reclaim_event ev = RECLAIM_EVENT_INIT;
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  return static_cast<int>(ev.struct_size + o.struct_size + c.struct_size) == 0;
}
