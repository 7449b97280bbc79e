/*
 * slapi_compat.h — the subset of the SLAPI plugin interface reclaim uses,
 * declared once for both OpenLDAP slapd (libslapi) and 389 Directory Server
 * (libslapd). Neither server's header is installed by a -dev package that
 * works for both; every name and number here was checked against both
 * (../shared/reference/slapi-hosts.md §3). Only the SLAPI adapter includes it.
 */
#ifndef RECLAIM_SLAPI_COMPAT_H
#define RECLAIM_SLAPI_COMPAT_H

#include <ldap.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slapi_pblock Slapi_PBlock;
typedef struct slapi_entry Slapi_Entry;
typedef struct slapi_attr Slapi_Attr;
typedef struct slapi_value Slapi_Value;
typedef struct slapi_componentid Slapi_ComponentId;

typedef struct slapi_plugindesc {
  char *spd_id;
  char *spd_vendor;
  char *spd_version;
  char *spd_description;
} Slapi_PluginDesc;

/* Identical values on OpenLDAP 2.5 and 389-ds 2.3. */
#define SLAPI_PLUGIN_TYPE 5
#define SLAPI_PLUGIN_ARGV 6
#define SLAPI_PLUGIN_ARGC 7
#define SLAPI_PLUGIN_VERSION 8
#define SLAPI_PLUGIN_DESCRIPTION 12
#define SLAPI_PLUGIN_IDENTITY 13
#define SLAPI_PLUGIN_INTOP_RESULT 15
#define SLAPI_PLUGIN_INTOP_SEARCH_ENTRIES 16
#define SLAPI_PLUGIN_CLOSE_FN 210
#define SLAPI_PLUGIN_START_FN 212
#define SLAPI_PLUGIN_PRE_MODIFY_FN 405
#define SLAPI_PLUGIN_PRE_MODRDN_FN 406
#define SLAPI_PLUGIN_PRE_ADD_FN 407
#define SLAPI_PLUGIN_PRE_DELETE_FN 408
#define SLAPI_PLUGIN_POST_MODIFY_FN 505
#define SLAPI_PLUGIN_POST_MODRDN_FN 506
#define SLAPI_PLUGIN_POST_ADD_FN 507
#define SLAPI_PLUGIN_POST_DELETE_FN 508
#define SLAPI_TARGET_DN 50
#define SLAPI_ADD_ENTRY 60
#define SLAPI_MODIFY_MODS 90
#define SLAPI_MODRDN_NEWRDN 100
#define SLAPI_MODRDN_NEWSUPERIOR 102
#define SLAPI_OPERATION 132
#define SLAPI_CONN_ID 139
#define SLAPI_REQUESTOR_DN 141
#define SLAPI_IS_REPLICATED_OPERATION 142
#define SLAPI_RESULT_CODE 881
#define SLAPI_PLUGIN_VERSION_01 "01"
#define SLAPI_PLUGIN_VERSION_03 "03"
#define SLAPI_LOG_FATAL 0
#define SLAPI_LOG_PLUGIN 14

/* Weak: resolved from the directory server process when libreclaim runs
 * inside one, NULL elsewhere — so any other host (reclaim-scimd, ctypes)
 * loads the same library without the server's libraries. */
#define RECLAIM_SLAPI_FN __attribute__((weak))

RECLAIM_SLAPI_FN int slapi_pblock_get(Slapi_PBlock *pb, int arg, void *value);
RECLAIM_SLAPI_FN int slapi_pblock_set(Slapi_PBlock *pb, int arg, void *value);
RECLAIM_SLAPI_FN Slapi_PBlock *slapi_pblock_new(void);
RECLAIM_SLAPI_FN void slapi_pblock_destroy(Slapi_PBlock *pb);
/* OpenLDAP only (libslapi); NULL on 389-ds. */
RECLAIM_SLAPI_FN int slapi_pblock_delete_param(Slapi_PBlock *pb, int param);

RECLAIM_SLAPI_FN void slapi_search_internal_set_pb(Slapi_PBlock *pb, const char *base, int scope,
                                  const char *filter, char **attrs, int attrsonly,
                                  LDAPControl **controls, const char *uniqueid,
                                  Slapi_ComponentId *plugin_identity, int operation_flags);
RECLAIM_SLAPI_FN int slapi_search_internal_pb(Slapi_PBlock *pb);
RECLAIM_SLAPI_FN void slapi_free_search_results_internal(Slapi_PBlock *pb);

RECLAIM_SLAPI_FN char *slapi_entry_get_dn(Slapi_Entry *e);
RECLAIM_SLAPI_FN int slapi_entry_first_attr(const Slapi_Entry *e, Slapi_Attr **attr);
RECLAIM_SLAPI_FN int slapi_entry_next_attr(const Slapi_Entry *e, Slapi_Attr *prevattr, Slapi_Attr **attr);
RECLAIM_SLAPI_FN int slapi_attr_get_type(const Slapi_Attr *attr, char **type);
RECLAIM_SLAPI_FN int slapi_attr_first_value(Slapi_Attr *a, Slapi_Value **v);
RECLAIM_SLAPI_FN int slapi_attr_next_value(Slapi_Attr *a, int hint, Slapi_Value **v);
RECLAIM_SLAPI_FN const struct berval *slapi_value_get_berval(const Slapi_Value *value);
RECLAIM_SLAPI_FN char *slapi_dn_parent(const char *dn);
RECLAIM_SLAPI_FN void slapi_ch_free_string(char **s);
RECLAIM_SLAPI_FN int slapi_log_error(int severity, char *subsystem, char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* RECLAIM_SLAPI_COMPAT_H */
