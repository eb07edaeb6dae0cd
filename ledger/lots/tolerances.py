"""Every threshold the consistency rules use, in one configuration object (docs/rules.md)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from ledger.lots.composition import RARE_EARTHS
from ledger.lots.words import Terms, terms

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

_LEVELS = frozenset({"low", "medium", "high"})
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


@dataclass(frozen=True)
class Tolerances:
    """The thresholds of every rule, with defaults that pass honest data and catch fraud.

    Relative tolerances are fractions (0.05 = 5 %); an "absolute floor" is added to the
    relative allowance, so that tiny amounts, where assays lose precision, do not flag.
    """

    # Mass balance of transforms (OUTPUT_EXCEEDS_INPUT).
    element_tolerance: float = 0.10  # element out may exceed in by this: 3.5σ of two assays
    # plus this many ppm of the smaller of mass in and mass out: no fixed grams, which would
    # be large next to a small lot (50 ppm of a tonne is 50 g, of a 1 g lot 50 µg)
    element_floor_ppm: float = 50.0
    mass_tolerance: float = 0.01  # total mass out over in, mass-conserving processes (scales)
    mass_conserving: frozenset[str] = MASS_CONSERVING  # processes whose total mass is checked

    # Recovery (YIELD_BELOW_FLOOR): flag when recovery < floor × (1 − recovery_margin).
    # The floor of each process (China 2016 rules); separation's is the light-feed one.
    recovery_floors: Mapping[str, float] = field(default_factory=lambda: RECOVERY_FLOORS)
    recovery_margin: float = 0.05  # "far below": 5 % under the floor, for assay noise
    low_grade_floor: float = 0.65  # beneficiation of low-grade ore (China 2016 rules)
    low_grade_treo_ppm: int = 20_000  # ore below 2 % TREO is low grade
    ionic_clay_floor: float = 0.94  # separation of ionic-clay (heavy) feed
    heavy_feed_share: float = 0.10  # a feed this heavy (Gd..Lu+Y of REY) is ionic-clay feed
    # Per-element recovery: each of these and the controlled elements on its own (at
    # alloying every rare earth), against the process floor less element_recovery_margin;
    # judged when the inputs hold at least element_recovery_min_ppm of their mass of it.
    recovery_elements: frozenset[str] = RECOVERY_ELEMENTS
    element_recovery_margin: float = 0.10  # one element's recovery: two assays' noise, 3.5σ
    element_recovery_min_ppm: int = 100  # less of an element than this is assay noise
    # Not a setting, derived in __post_init__ (the rule reads it per transform): the rare
    # earths judged one by one outside alloying, the controlled ones and recovery_elements.
    recovery_judged: frozenset[str] = field(init=False, repr=False, compare=False)

    # Lineage balance (LINEAGE_IMBALANCE): a lot's claim of a rare earth vs what its ancestry
    # back to the mines supplied (at most) and guarantees (at least), all steps together.
    lineage_tolerance: float = 0.10  # one total per lineage: two assays' noise
    lineage_floor_ppm: int = 50  # plus this many ppm of the lot's own mass (no fixed grams)
    # Not a setting, derived in __post_init__ (the rule reads it per lot): the rare earths
    # held to their guaranteed lower bound, the controlled ones and LINEAGE_HIGH_VALUE.
    lineage_held: tuple[str, ...] = field(init=False, repr=False, compare=False)

    # Split and blend (MIX_INCONSISTENT): output vs mass-weighted inputs, per element.
    mix_tolerance: float = 0.10  # relative to the expected ppm (a reassayed output)
    mix_floor_ppm: int = 200  # plus this many ppm

    # Assay vs the lot's recorded composition (COMPOSITION_MISMATCH).
    assay_tolerance: float = 0.10  # relative to the recorded ppm: two labs, two samples
    assay_floor_ppm: int = 200  # plus this many ppm
    assay_min_ppm: int = 1_000  # compare only elements at or above this in either

    # Declared composition vs the mass-weighted record (COMPOSITION_MISMATCH).
    declared_tolerance: float = 0.10  # relative to the recorded ppm
    declared_floor_ppm: int = 500  # plus this many ppm
    declared_min_ppm: int = 5_000  # compare only elements at or above this in either
    # A controlled element some lot holds at or above controlled_threshold_ppm is compared
    # whatever its size, with this floor in place of declared_floor_ppm.
    declared_controlled_floor_ppm: int = 50
    magnet_family_min_ppm: int = 100_000  # Nd+Pr or Sm this high makes a lot NdFeB or SmCo
    ndfeb_terms: tuple[str, ...] = NDFEB_TERMS  # description words naming NdFeB
    smco_terms: tuple[str, ...] = SMCO_TERMS  # description words naming SmCo

    # Origin (ORIGIN_MISMATCH), total variation distance between REY fingerprints.
    origin_distance: float = 0.15  # vs the declared deposit's reference profile
    pattern_distance: float = 0.10  # a concentrate or compound vs its ore inputs
    pattern_min_rey_ppm: int = 100  # too little REY to have a pattern: not checked
    # profile -> ratio -> (lowest, highest) (DOMAIN §3, §6, with margins): ratios that tell
    # deposits apart where the distance, dominated by La and Ce, does not.
    deposit_ratios: Mapping[str, Mapping[str, tuple[float, float]]] = field(
        default_factory=lambda: DEPOSIT_RATIOS
    )

    # Process grammar (PROCESS_INCONSISTENT): what each process takes and makes (DOMAIN §6).
    process_takes: Mapping[str, frozenset[str]] = field(default_factory=lambda: PROCESS_TAKES)
    process_makes: Mapping[str, frozenset[str]] = field(default_factory=lambda: PROCESS_MAKES)
    extract_makes: frozenset[str] = EXTRACT_MAKES  # what comes out of the ground
    # product -> (lowest, highest) rare earths, ppm of the lot (DOMAIN §6, with margins).
    product_re_ppm: Mapping[str, tuple[int, int]] = field(default_factory=lambda: PRODUCT_RE_PPM)
    # alloy, magnet powder and magnet are one of these families, each bounds in ppm.
    magnet_families: Mapping[str, Mapping[str, tuple[int, int]]] = field(
        default_factory=lambda: MAGNET_FAMILIES
    )

    # Masses in custody.
    ship_tolerance: float = 0.005  # shipped mass vs the lot's recorded mass, relative
    ship_floor_g: int = 100  # plus this many grams
    receipt_tolerance: float = 0.01  # weighed at receipt vs shipped: scales, moisture
    receipt_floor_g: int = 100  # plus this many grams
    declared_mass_tolerance: float = 0.005  # declared vs recorded mass, relative
    declared_mass_floor_g: int = 100  # plus this many grams,
    declared_mass_floor_share: float = 0.10  # but never more than this share of the record

    # Time (TIME_INCONSISTENT).
    time_slack_s: int = 300  # clocks drift: the ledger itself accepts 5 minutes ahead
    time_major_s: int = 86_400  # a gap longer than a day is medium, not low

    # Customs (CONTROLLED_WITHOUT_LICENCE, HS_CODE_MISMATCH).
    controlled_ann18: frozenset[str] = CONTROLLED_ANN18  # MOFCOM Ann. 18 (2025)
    controlled_ann57: frozenset[str] = CONTROLLED_ANN57  # MOFCOM Ann. 57, force suspended
    include_ann57: bool = False  # whether Ann. 57's elements are controlled too
    # exporter's country -> its controlled elements (DESIGN §9.1); Ann. 57 extends CN's.
    control_lists: Mapping[str, frozenset[str]] = field(default_factory=lambda: CONTROL_LISTS)
    ann57_countries: frozenset[str] = frozenset({"CN"})  # whose list Ann. 57 extends
    quota_countries: frozenset[str] = QUOTA_COUNTRIES  # QUOTA_EXCEEDED: mine's or site's
    controlled_threshold_ppm: int = 1_000  # 0.1 % by mass of a lot (DOMAIN §4)
    re_bearing_ppm: int = 10_000  # 1 % rare earths makes material rare-earth-bearing
    re_bearing_hs: tuple[str, ...] = RE_BEARING_HS  # HS prefixes that may carry it
    # product -> the 6-digit HS codes that fit it (DOMAIN §1).
    hs_by_product: Mapping[str, frozenset[str]] = field(default_factory=lambda: HS_BY_PRODUCT)
    ferroalloy_max_re_ppm: int = 400_000  # 7202.99 ferro-alloy: NdFeB holds ≤ ~35 % RE
    non_re_terms: tuple[str, ...] = NON_RE_TERMS  # description words for non-RE goods
    re_terms: tuple[str, ...] = RE_TERMS  # description words for RE goods
    generic_terms: tuple[str, ...] = GENERIC_TERMS  # description words for any goods

    severity: Mapping[str, str] = field(default_factory=lambda: SEVERITY)  # code -> severity

    # The description term lists above, each term tokenized once (__post_init__): a rule
    # looks up a description's words in them (ledger/lots/rules/wording.py).
    non_re_words: Terms = field(init=False, repr=False, compare=False)
    re_words: Terms = field(init=False, repr=False, compare=False)
    generic_words: Terms = field(init=False, repr=False, compare=False)
    ndfeb_words: Terms = field(init=False, repr=False, compare=False)
    smco_words: Terms = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        held = (self.controlled | LINEAGE_HIGH_VALUE) & RARE_EARTHS
        object.__setattr__(self, "lineage_held", tuple(sorted(held)))
        judged = (self.controlled | self.recovery_elements) & RARE_EARTHS
        object.__setattr__(self, "recovery_judged", judged)
        for name in ("non_re", "re", "generic", "ndfeb", "smco"):
            object.__setattr__(self, f"{name}_words", terms(getattr(self, f"{name}_terms")))
        # A configuration error must fail at start-up, not turn every rule silent.
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"Tolerances.{item.name} must not be negative, got {value}")
        if not 0 <= self.recovery_margin < 1:
            raise ValueError("Tolerances.recovery_margin must be in [0, 1)")
        if not 0 <= self.element_recovery_margin < 1:
            raise ValueError("Tolerances.element_recovery_margin must be in [0, 1)")
        backwards = [name for name, (low, high) in self.product_re_ppm.items() if low > high]
        if backwards:
            raise ValueError(f"Tolerances.product_re_ppm: {backwards} have low > high")
        wrong = {code: level for code, level in self.severity.items() if level not in _LEVELS}
        if wrong:
            raise ValueError(f"Tolerances.severity: {wrong} is not low, medium or high")

    @property
    def controlled(self) -> frozenset[str]:
        """The elements under export control with the announcements in force."""
        extra = self.controlled_ann57 if self.include_ann57 else frozenset()
        return self.controlled_ann18 | extra

    def controlled_for(self, country: str | None) -> frozenset[str]:
        """The elements controlled for an exporter of `country` (DESIGN §9.1); None: the
        exporter is not known (a check that writes nothing), China's list with Ann. 57 as set."""
        if country is None:
            return self.controlled
        found = self.control_lists.get(country, frozenset())
        if self.include_ann57 and country in self.ann57_countries:
            return found | self.controlled_ann57
        return found
