"""The reference figures of DOMAIN.md that the rules read (docs/rules.md): processes and
their products, composition ranges, HS codes, words of a description, control lists, deposit
ratios and each flag's severity. `Tolerances` takes its defaults from here."""

from collections.abc import Mapping
from types import MappingProxyType

# Processes that add no untracked mass: total mass out cannot exceed total mass in. Not
# cracking (carbonate, chloride, water join), not alloying (Fe, B, Co come from untracked
# stock), not reduction (electrolysis on a consumable iron cathode makes DyFe or NdFe alloy
# straight from the oxide; metal out < oxide in otherwise, so the check would rarely bite).
MASS_CONSERVING = frozenset(
    {"split", "blend", "beneficiation", "separation", "milling", "sintering", "machining"}
)

# China's 2016 rare-earth industry rules (MIIT) and DOMAIN §2; separation's floor here is
# the light-feed one, beneficiation's the normal-grade one (see the fields below).
RECOVERY_FLOORS: Mapping[str, float] = MappingProxyType(
    {
        "beneficiation": 0.75,
        "cracking": 0.92,
        "separation": 0.96,
        "reduction": 0.95,
        "alloying": 0.97,
        "milling": 0.97,
        "sintering": 0.97,
        "machining": 0.60,
        "split": 0.995,
        "blend": 0.995,
    }
)

# MOFCOM Announcement No. 18 (April 2025) and No. 57 (October 2025).
CONTROLLED_ANN18 = frozenset({"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"})
CONTROLLED_ANN57 = frozenset({"Ho", "Er", "Tm", "Eu", "Yb"})
# DESIGN §9.1: the exporting jurisdiction's control list (the declaring exporter's country);
# an exporter of a country not named here is judged by no list. Ann. 57 extends CN's.
CONTROL_LISTS: Mapping[str, frozenset[str]] = MappingProxyType({"CN": CONTROLLED_ANN18})
# DESIGN §9.1: where mines extract under a yearly quota.
QUOTA_COUNTRIES = frozenset({"CN"})

# DOMAIN §4: the 4- and 6-digit headings that carry rare-earth material.
RE_BEARING_HS = ("2530", "2612", "2805", "2846", "720299", "382499", "850511")

# DOMAIN §1: the 6-digit codes that fit each product.
HS_BY_PRODUCT: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "ore": frozenset({"253090"}),
        "concentrate": frozenset({"253090", "284610", "261220"}),
        "mixed_compound": frozenset({"284610", "284690"}),
        "oxide": frozenset({"284690", "284610"}),
        "metal": frozenset({"280530"}),
        "alloy": frozenset({"280530", "720299"}),
        "magnet_powder": frozenset({"280530", "720299", "382499"}),
        "magnet": frozenset({"850511"}),
    }
)

# Words in a description that name a material other than rare earths (DOMAIN §4 cases).
NON_RE_TERMS = (
    "nickel", "tile", "tiles", "adhesive", "ceramic", "ceramics", "mannequin", "mannequins",
    "ferrite", "ferroalloy", "ferro-alloy", "iron alloy", "steel", "cobalt powder", "plastic",
)  # fmt: skip
# Words that say the goods are rare-earth material; any one of them clears NON_RE_TERMS.
RE_TERMS = (
    "rare earth", "rare-earth", "rare earths", "ree", "reo", "treo", "lanthanide",
    "lanthanum", "cerium", "praseodymium", "neodymium", "promethium", "samarium", "europium",
    "gadolinium", "terbium", "dysprosium", "holmium", "erbium", "thulium", "ytterbium",
    "lutetium", "yttrium", "scandium", "ndfeb", "nd-fe-b", "nd2fe14b", "ndpr", "smco",
    "sm-co", "sm2co17", "smco5", "dyfe", "mischmetal", "bastnaesite", "bastnasite",
    "monazite", "xenotime",
)  # fmt: skip
# Words that name goods only generically: a description made of them (and no rare-earth
# word) for lots carrying a controlled element hides it (HS_CODE_MISMATCH, docs/rules.md).
GENERIC_TERMS = (
    "magnet", "magnets", "alloy", "alloys", "powder", "powders", "metal", "metals", "oxide",
    "oxides", "compound", "compounds", "concentrate", "concentrates", "ore", "ores",
    "material", "materials", "goods", "parts", "scrap", "components", "products", "items",
    "samples", "assemblies", "blocks", "rings", "discs", "segments", "flakes", "ingots",
)  # fmt: skip
NDFEB_TERMS = ("ndfeb", "nd-fe-b", "nd2fe14b", "neodymium")
SMCO_TERMS = ("smco", "sm-co", "sm2co17", "smco5", "samarium cobalt", "samarium-cobalt")

# DOMAIN §6: the products each process takes and makes. Split and blend take any product
# and keep it (checked apart); separation may leave a mixed-compound remainder; the leaching
# of ionic clay, posted as beneficiation (docs/rules.md), makes mixed carbonate; reduction
# may make a RE-Fe alloy (DyFe) on an iron cathode (DOMAIN §1 lists DyFe among alloys).
_ANY = frozenset(HS_BY_PRODUCT)
# Scrap is an output lot where it is recycled (DOMAIN §6, machining): alloy, powder and
# magnet scrap is remelted in alloying, or leached (cracking) into a mixed compound.
_SCRAP = frozenset({"alloy", "magnet_powder", "magnet"})
PROCESS_TAKES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "beneficiation": frozenset({"ore"}),
        "cracking": frozenset({"concentrate", *_SCRAP}),
        "separation": frozenset({"mixed_compound", "concentrate"}),
        "reduction": frozenset({"oxide"}),
        "alloying": frozenset({"metal", *_SCRAP}),
        "milling": frozenset({"alloy"}),
        "sintering": frozenset({"magnet_powder", "alloy"}),  # milling recorded with it
        "machining": frozenset({"magnet"}),
        "split": _ANY,
        "blend": _ANY,
    }
)
PROCESS_MAKES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "beneficiation": frozenset({"concentrate", "mixed_compound"}),
        "cracking": frozenset({"mixed_compound"}),
        "separation": frozenset({"oxide", "mixed_compound"}),
        "reduction": frozenset({"metal", "alloy"}),
        "alloying": frozenset({"alloy"}),
        "milling": frozenset({"magnet_powder"}),
        "sintering": frozenset({"magnet"}),
        "machining": frozenset({"magnet"}),
        "split": _ANY,
        "blend": _ANY,
    }
)
# A mine's own products: ore, and what a mine site makes of it (flotation concentrate, the
# mixed carbonate of in-situ clay leaching). A separated product does not come from the ground.
EXTRACT_MAKES = frozenset({"ore", "concentrate", "mixed_compound"})
# DOMAIN §6 "typical operating ranges", rare earths (the seventeen, elemental) in ppm of the
# lot, widened by a margin for assay noise and grades at the edge: ore 0.03-12 %, concentrate
# 20-65 %, mixed compound 25-88 %, oxide 65-88 %, metal ≥ 97 %, alloy and powder 25-36 %
# (NdFeB; SmCo and RE-Fe alloys by MAGNET_FAMILIES), NdFeB magnet 28-36 % (DOMAIN §1).
PRODUCT_RE_PPM: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "ore": (250, 130_000),
        "concentrate": (180_000, 680_000),
        "mixed_compound": (230_000, 900_000),
        "oxide": (630_000, 900_000),
        "metal": (960_000, 1_000_000),
    }
)
# Alloy, magnet powder and magnet: a lot fits when it fits one family. NdFeB: RE and Fe
# (DOMAIN §6 alloy 25-36 % RE, 55-72 % Fe; magnet §1 Nd+Pr 29-32.5 % plus Dy, Tb, Fe 64-69 %);
# SmCo: Sm 20-36 %, Co 48-66 %; RE-Fe (DyFe, NdFe master alloy, alloys only): RE ~80 %.
MAGNET_FAMILIES: Mapping[str, Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        "NdFeB": MappingProxyType({"RE": (240_000, 370_000), "Fe": (530_000, 740_000)}),
        "SmCo": MappingProxyType({"Sm": (190_000, 370_000), "Co": (460_000, 680_000)}),
        "RE-Fe": MappingProxyType({"RE": (650_000, 920_000), "Fe": (70_000, 350_000)}),
    }
)
# Per-element recovery: the controlled elements (Tolerances.controlled) and these.
RECOVERY_ELEMENTS = frozenset({"Nd", "Pr", "Tb", "Dy"})
# Lineage balance: high-value elements held to their guaranteed lower bound besides the
# controlled ones (Tolerances.lineage_held).
LINEAGE_HIGH_VALUE = frozenset({"Nd", "Pr", "Tb", "Dy"})
# Element ratios per reference profile (DOMAIN §3 ranges, elemental, §6's last lines):
# Dy/Nd and Tb/Nd, the Y share of REY, the heavy (Gd..Lu+Y) share. Bastnaesite deposits
# carry monazite (Bayan Obo): both take the light-deposit bounds of DOMAIN §6.
_LIGHT = MappingProxyType(
    {"Dy/Nd": (0.0, 0.055), "Tb/Nd": (0.0, 0.0165), "Y": (0.0, 0.03), "heavy": (0.0, 0.08)}
)
DEPOSIT_RATIOS: Mapping[str, Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "bastnaesite": _LIGHT,
        "monazite": _LIGHT,
        "ionic_clay_heavy": MappingProxyType({"Y": (0.45, 0.80), "heavy": (0.75, 1.0)}),
        "ionic_clay_light": MappingProxyType(
            {"Dy/Nd": (0.0, 0.15), "Tb/Nd": (0.0, 0.03), "Y": (0.05, 0.17), "heavy": (0.09, 0.32)}
        ),
    }
)

SEVERITY_LEVELS = frozenset({"low", "medium", "high"})
SEVERITY: Mapping[str, str] = MappingProxyType(
    {
        "OUTPUT_EXCEEDS_INPUT": "high",  # phantom production: material from nowhere
        "YIELD_BELOW_FLOOR": "medium",  # diversion, or a bad plant day
        "MIX_INCONSISTENT": "medium",  # paper upgrading of a split or blend
        "COMPOSITION_MISMATCH": "high",  # substitution, magnet swap, false declaration
        "ORIGIN_MISMATCH": "high",  # laundering of material from another deposit
        "RECEIPT_MISMATCH": "medium",  # loss or substitution in transit
        "SHIP_MASS_MISMATCH": "medium",  # records of the sender disagree
        "HS_CODE_MISMATCH": "high",  # mislabelling at the border
        "CONTROLLED_WITHOUT_LICENCE": "high",  # export control evasion
        "DECLARED_MASS_MISMATCH": "high",  # a false customs declaration
        "TIME_INCONSISTENT": "low",  # raised to medium past time_major_s
        "PROCESS_INCONSISTENT": "high",  # relabelling: no honest plant makes it
        "LINEAGE_IMBALANCE": "high",  # material from nowhere; medium (or high) for missing
        "LICENCE_INVALID": "high",  # a licence number that does not cover the goods
        "QUOTA_EXCEEDED": "high",  # extraction beyond (or without) the state's quota
    }
)
