# The git store (gitstore/): libssh2 directly for ssh:// remotes
# (gitstore/ssh.c), and gs_tool, the small program the remote tests and
# the git benchmarks drive the library with.
#   build/test/gs_tool    sanitized, for tests/gitstore/test_remotes.sh
#   build/bench/gs_tool   optimized, for tests/gitstore/bench.sh
LDLIBS += -lssh2
GS_OBJ  := $(filter $(B)/obj/gitstore/%,$(APP_OBJ))
GS_SOBJ := $(filter $(B)/asan/gitstore/%,$(SAPP_OBJ))

$(B)/test/gs_tool: tests/gitstore/gs_tool.c $(GS_SOBJ) $(SLIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -o $@ $< $(GS_SOBJ) $(SLIB_OBJ) $(LDLIBS)

$(B)/bench/gs_tool: tests/gitstore/gs_tool.c $(GS_OBJ) $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(GS_OBJ) $(B)/libzl.a $(LDLIBS)

TEST_DEPS += $(B)/test/gs_tool

.PHONY: bench-git
bench-git: $(B)/bench/gs_tool
	sh tests/gitstore/bench.sh
