"""Reference numbers of the generated supply chains, each taken from a section of DOMAIN.md."""

from collections.abc import Mapping
from types import MappingProxyType

Range = tuple[float, float]

# The rare earths the deposit profiles distribute (REY); Sc belongs to no profile (DOMAIN §3).
REY = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y")

# DOMAIN §1: mass fraction of the metal in its usual oxide. Ho, Er, Tm, Yb (M2O3) are not in
# DOMAIN and come from IUPAC atomic weights.
METAL_FRACTION: Mapping[str, float] = MappingProxyType(
    {
        "La": 0.8527, "Ce": 0.8141, "Pr": 0.8277, "Nd": 0.8574, "Sm": 0.8624,
        "Eu": 0.8636, "Gd": 0.8676, "Tb": 0.8502, "Dy": 0.8713, "Ho": 0.8730,
        "Er": 0.8745, "Tm": 0.8756, "Yb": 0.8782, "Lu": 0.8794, "Y": 0.7874,
    }
)  # fmt: skip

# DOMAIN §3: each element's share of TREO (% oxide basis) per deposit type. "HREE" is the
# "other HREE" column (Ho..Lu); "<x" is read as (0, x).
DISTRIBUTIONS: Mapping[str, Mapping[str, Range]] = MappingProxyType(
    {
        "bastnaesite": {
            "La": (23, 33), "Ce": (47, 50), "Pr": (4, 5), "Nd": (12, 18), "Sm": (0.8, 1.2),
            "Eu": (0.1, 0.2), "Gd": (0.2, 0.7), "Tb": (0, 0.1), "Dy": (0, 0.1),
            "Y": (0.1, 0.3), "HREE": (0, 0.3),
        },
        "monazite": {
            "La": (20, 23), "Ce": (45, 49), "Pr": (5, 6), "Nd": (17, 19), "Sm": (2.5, 3),
            "Eu": (0.05, 0.2), "Gd": (1, 2), "Tb": (0.1, 0.2), "Dy": (0.3, 0.8),
            "Y": (1, 2.5), "HREE": (0, 1),
        },
        "clay_heavy": {
            "La": (1.5, 3), "Ce": (0.5, 2), "Pr": (0.5, 1.5), "Nd": (3, 4), "Sm": (2, 3),
            "Eu": (0, 0.2), "Gd": (5, 7), "Tb": (1, 1.5), "Dy": (6, 8), "Y": (60, 66),
            "HREE": (10, 15),
        },
        "clay_light": {
            "La": (28, 38), "Ce": (2, 8), "Pr": (6, 8), "Nd": (25, 31), "Sm": (4, 6),
            "Eu": (0.5, 1), "Gd": (3, 5), "Tb": (0.3, 0.6), "Dy": (1, 3), "Y": (8, 12),
            "HREE": (1, 3),
        },
    }
)  # fmt: skip
# How the "other HREE" column is shared among its elements (typical of both clay types).
OTHER_HREE: Mapping[str, float] = MappingProxyType(
    {"Ho": 0.15, "Er": 0.35, "Tm": 0.05, "Yb": 0.35, "Lu": 0.10}
)

# DOMAIN §1, ore grades as a fraction of ore mass (TREO). Bayan Obo is read as the lower
# half of the carbonatite range; DOMAIN gives no grade for placer monazite, which takes Mount
# Weld's; ionic clay: 0.05-0.3 % REY, typically ~800 ppm.
TREO_BAYAN_OBO: Range = (0.04, 0.07)
TREO_MOUNTAIN_PASS: Range = (0.075, 0.085)
TREO_MOUNT_WELD: Range = (0.04, 0.065)
TREO_IONIC_CLAY: Range = (0.0006, 0.0015)

# DOMAIN §1: REO grade of the concentrate (bastnaesite plant 60-65 %, monazite ≥55 %; the
# leach product of a clay takes the bastnaesite plant range), and of the mixed compound.
CONCENTRATE_GRADE: Mapping[str, Range] = MappingProxyType(
    {"bastnaesite": (0.60, 0.65), "monazite": (0.56, 0.62), "ionic_clay": (0.60, 0.65)}
)
MIXED_COMPOUND_GRADE: Range = (0.45, 0.55)  # 40-60 % REO, kept inside
# DOMAIN §1 monazite concentrate: ThO2 6-10 %, P2O5 ~29 %: per gram of rare earth (elemental,
# ~48-53 % of the concentrate) about 0.115-0.16 g Th and 0.24-0.27 g P follow the mineral.
MONAZITE_TH_PER_RE: Range = (0.115, 0.16)
MONAZITE_P_PER_RE: Range = (0.24, 0.27)
BASTNAESITE_F_PER_RE: Range = (0.07, 0.09)  # (RE)CO3F: F follows the mineral
CARBONATE_O_PER_RE: Range = (0.50, 0.55)  # RE2(CO3)3: oxygen of the mixed carbonate

# DOMAIN §2: rare-earth recovery of honest processing, inside the typical range and, even
# after ELEMENT_SPREAD, at least 0.01 clear of the China 2016 floors (beneficiation 0.75,
# cracking 0.92, separation 0.94/0.96, reduction 0.95, alloying, milling and sintering 0.97,
# machining 0.60).
RECOVERY: Mapping[str, Range] = MappingProxyType(
    {
        "beneficiation": (0.78, 0.90),
        "cracking": (0.94, 0.97),
        "separation": (0.975, 0.99),
        "reduction": (0.965, 0.99),
        "alloying": (0.985, 0.995),
        "milling": (0.982, 0.995),
        "sintering": (0.982, 0.99),
        "machining": (0.67, 0.85),  # scrap 15-33 %
    }
)
ELEMENT_SPREAD = 0.004  # per-element recovery varies by this much relative to the process's
OXIDE_PURITY: Range = (0.990, 0.997)  # DOMAIN §1: ≥99 % TREO in a separated oxide
METAL_PURITY: Range = (0.993, 0.998)  # DOMAIN §1: RE ≥99 %
METAL_OXYGEN_PPM: Range = (200, 600)

# DOMAIN §1 sintered NdFeB: Nd+Pr 29-32.5 %, Dy 0.6-1.2 %, Fe 64-69 %, B 1.0-1.2 %, Co, Cu,
# Al; the alloy is 27-32 % RE, 63-68 % Fe, ~1 % B, 0-5 % Co. Both kept inside.
NDFEB_NDPR: Range = (0.295, 0.31)
NDFEB_DY: Range = (0.0062, 0.0115)  # inside 0.6-1.2 % after rounding up and spread
NDFEB_FE: Range = (0.645, 0.675)
NDFEB_B: Range = (0.010, 0.011)
NDFEB_CU: Range = (0.001, 0.002)
NDFEB_AL: Range = (0.001, 0.003)
NDFEB_CO_MAX = 0.045
# DOMAIN §1 SmCo: Sm ~23-35 %, Co 50-65 %. Sm2Co17 grades carry Fe, Cu, Zr; SmCo5 does not.
SM2CO17: Mapping[str, Range] = MappingProxyType(
    {"Sm": (0.245, 0.26), "Fe": (0.12, 0.14), "Cu": (0.045, 0.06), "Zr": (0.02, 0.028)}
)
SMCO5: Mapping[str, Range] = MappingProxyType({"Sm": (0.346, 0.35), "Fe": (0.004, 0.008)})
UNLISTED: Range = (0.001, 0.003)  # O, C and the like that an alloy assay leaves out

# DOMAIN §4: the elements China controls (MOFCOM Ann. 18) and the threshold by mass.
CONTROLLED = frozenset({"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"})
CONTROLLED_PPM = 1_000

# DOMAIN §1: HS codes that fit each exported product (6 digits, without dots).
HS_CODE: Mapping[str, str] = MappingProxyType(
    {
        "bastnaesite": "253090",
        "ionic_clay": "253090",
        "monazite": "261220",
        "oxide": "284690",
        "CeO2": "284610",
        "metal": "280530",
        "ndfeb_powder": "720299",
        "smco_powder": "280530",
        "magnet": "850511",
    }
)

ASSAY_NOISE = 0.015  # relative, per element: well inside two labs' agreement (DOMAIN §2)
RECEIPT_NOISE = 0.002  # weighed at receipt vs shipped: scales agree to ±0.2 %
