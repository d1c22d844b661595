#ifndef ADVOCATE_CLIBXML2_SHIM_H
#define ADVOCATE_CLIBXML2_SHIM_H

// libxml2's HTML and XML parsers and its tree API; Swift calls them directly.
// Debian builds libxml2 with ICU, whose headers clash with the copy inside Foundation: Advocate never uses
// libxml2's ICU converters, so they are left out of the headers here.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

// `xmlFree` is a global function pointer, which Swift 6 treats as shared mutable state.
static inline void advocate_xml_free(void *pointer) { xmlFree(pointer); }

#endif
