"""The program image, below both compile/ and runtime/ (compile -> image <-
runtime; neither imports the other):

  isa.py        the instruction set, builtins and ftstap.h's constants, read
                from the built C module (the one importer of ftstap._native)
  format.py     the image format: read_image() (once per run), decode()
  builder.py    ImageBuilder, the assembler pass 3 writes to
  events.py     EventSpec: each kernel event, and the ONE tracefs definition
                writer used by -p3 and pass 5
  eventcheck.py the events section read and checked as the untrusted input it is
  target.py     the machine an image is for (its header's tag)
"""
