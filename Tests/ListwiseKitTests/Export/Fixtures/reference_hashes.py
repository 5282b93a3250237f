# Reference SHA-256 values for ExportTests, computed with Python's hashlib (independent of
# swift-crypto) from inputs normalised by hand the way Meta and Google document it.
# Run: python3 reference_hashes.py
import hashlib

def h(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()

values = {
    "email john.smith@example.com": "john.smith@example.com",
    "phone meta 14155552671": "14155552671",
    "phone google +14155552671": "+14155552671",
    "name john": "john",
    "name smith": "smith",
    "zip 94610": "94610",
    "city oakland": "oakland",
    "state ca": "ca",
    "country us": "us",
    "name obrien (O'Brien)": "obrien",
}
for label, value in values.items():
    print(f"{label}: {h(value)}")
