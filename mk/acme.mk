# The ACME client's driver for tests/acme/test_pebble.sh (sanitized, as
# the unit tests): build/test/acme_tool.
$(B)/test/acme_tool: tests/acme/acme_tool.c $(SLIB_OBJ) $(SAPP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -o $@ $< $(SLIB_OBJ) $(SAPP_OBJ) $(LDLIBS)

TEST_DEPS += $(B)/test/acme_tool
