# The hosted server built with ASan+UBSan: the system tests
# (tests/system/lib.sh) run it when it is at least as new as build/zonelet,
# so memory errors in the listeners, TCP handling and reloads fail them.
$(B)/zonelet-asan: $(SLIB_OBJ) $(SAPP_OBJ) $(B)/asan/$(APP_MAIN:.c=.o)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

TEST_DEPS += $(B)/zonelet-asan
