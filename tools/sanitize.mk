# The AddressSanitizer build (tools/sanitize runs this from the build root):
# zig-out/asan/bin/llmsweep and zig-out/asan/bin/llmsweep-unit, compiled by
# Debian's clang for glibc from exactly the sources and macros build.zig
# lists in zig-out/generated/sources.mk. Everything gets ASan (with
# LeakSanitizer); our own code also gets UBSan. Zig ships no sanitizer
# runtime, hence clang. Header dependencies come from -MMD.

include zig-out/generated/sources.mk

OUT := zig-out/asan
GEN := zig-out/generated
CC := clang
ASAN := -fsanitize=address -fno-omit-frame-pointer
UBSAN := -fsanitize=undefined -fno-sanitize-recover=undefined
CODEGEN := -g -O1
# Objects are rebuilt when the source lists, macros or this file change.
BUILD_INPUTS := $(GEN)/sources.mk tools/sanitize.mk

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

define third_party
$(1)_OBJS := $$(call obj,$$($(1)_SRCS))
$$($(1)_OBJS): CPPFLAGS := $$($(1)_CPPFLAGS)
$$($(1)_OBJS): CFLAGS := $$(THIRD_PARTY_CFLAGS) $$(ASAN)
DEP_OBJS += $$($(1)_OBJS)
endef
$(foreach lib,$(LIBRARIES),$(eval $(call third_party,$(lib))))

MAIN_OBJ := $(call obj,src/main.c)
PROJECT_OBJS := $(call obj,$(PROJECT_SRCS) $(addprefix $(GEN)/,$(GENERATED_SRCS)))
UNIT_OBJS := $(call obj,$(UNIT_SRCS))
$(PROJECT_OBJS) $(UNIT_OBJS): CPPFLAGS := $(PROJECT_CPPFLAGS) -Itests/unit
$(PROJECT_OBJS) $(UNIT_OBJS): CFLAGS := $(PROJECT_CFLAGS) -Wno-overlength-strings $(ASAN) $(UBSAN)

all: $(OUT)/bin/llmsweep $(OUT)/bin/llmsweep-unit

$(OUT)/bin/llmsweep: $(PROJECT_OBJS) $(DEP_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ASAN) $(UBSAN) -o $@ $^ -lpthread -lm

$(OUT)/bin/llmsweep-unit: $(filter-out $(MAIN_OBJ),$(PROJECT_OBJS)) $(UNIT_OBJS) $(DEP_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ASAN) $(UBSAN) -o $@ $^ -lpthread -lm

$(OUT)/obj/%.o: %.c $(BUILD_INPUTS)
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(CODEGEN) -MMD -MP -c $< -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

.PHONY: all
