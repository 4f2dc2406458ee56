# Builds fixtures/demo/fonts/demo.woff2 (run once; the result is committed):
# a tiny real font, every printable ASCII glyph a box, so the browser test
# proves that url() fonts load. Needs `pip install fonttools brotli`.
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

chars = [chr(c) for c in range(0x21, 0x7f)] + ["\u20ac"]
names = [".notdef", "space"] + ["g%04x" % ord(c) for c in chars]
fb = FontBuilder(1000, isTTF=True)
fb.setupGlyphOrder(names)
cmap = {0x20: "space"}
cmap.update({ord(c): "g%04x" % ord(c) for c in chars})
fb.setupCharacterMap(cmap)
def box(w):
    pen = TTGlyphPen(None)
    pen.moveTo((50, 0)); pen.lineTo((50, 700)); pen.lineTo((w - 50, 700)); pen.lineTo((w - 50, 0)); pen.closePath()
    return pen.glyph()
glyphs = {n: box(600) for n in names}
glyphs["space"] = TTGlyphPen(None).glyph()
fb.setupGlyf(glyphs)
fb.setupHorizontalMetrics({n: (600, 0 if n == "space" else 50) for n in names})
fb.setupHorizontalHeader(ascent=800, descent=-200)
fb.setupNameTable({"familyName": "Demo Sans", "styleName": "Regular"})
fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
fb.setupPost()
fb.font.flavor = "woff2"
import pathlib
fb.save(str(pathlib.Path(__file__).resolve().parents[2] / "fixtures/demo/fonts/demo.woff2"))
