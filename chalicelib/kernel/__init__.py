"""Pure shared values: civil ID, phone, money, names, Kuwait's calendar, Arabic text shaping."""
