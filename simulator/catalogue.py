"""Static data the synthetic organisation draws from: names, departments, titles, admin roles, apps.

Kept apart from org.py so the builder reads as the story of the organisation, not as word lists.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
    "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie",
    "Ronald", "Rebecca", "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy",
    "Jacob", "Amy", "Gary", "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Emma",
    "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon", "Samantha",
    "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Patrick",
    "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis", "Heather", "Jerry", "Helen",
    "Tyler", "Catherine", "Aaron", "Diane", "Jose", "Julie", "Adam", "Victoria", "Nathan", "Joyce", "Henry",
    "Lauren", "Zachary", "Kelly", "Douglas", "Christina", "Peter", "Ruth", "Kyle", "Joan", "Noah", "Virginia",
    "Ethan", "Judith", "Jeremy", "Evelyn", "Christian", "Hannah", "Walter", "Andrea", "Keith", "Megan",
    "Austin", "Cheryl", "Roger", "Jacqueline", "Terry", "Madison", "Sean", "Teresa", "Gerald", "Abigail",
    "Carl", "Sophia", "Dylan", "Martha", "Harold", "Sara", "Jordan", "Gloria", "Jesse", "Janice", "Bryan",
    "Kathryn", "Lawrence", "Ann", "Arthur", "Isabella", "Gabriel", "Judy", "Bruce", "Charlotte", "Logan",
    "Julia", "Billy", "Grace", "Joe", "Amber", "Alan", "Alice", "Juan", "Jean", "Elijah", "Denise", "Willie",
    "Frances", "Albert", "Danielle", "Wayne", "Marilyn", "Randy", "Natalie", "Mason", "Beverly", "Vincent",
    "Diana", "Liam", "Brittany", "Roy", "Theresa", "Bobby", "Kayla", "Caleb", "Alexis", "Bradley", "Doris",
    "Russell", "Lori", "Lucas", "Tiffany", "Priya", "Wei", "Aisha", "Mohammed", "Fatima", "Hiroshi", "Mei",
    "Carlos", "Lucia", "Sofia", "Mateo", "Ana", "Luis", "Rosa", "Kwame", "Amara", "Ravi", "Anjali", "Chen",
    "Yusuf", "Leila", "Dmitri", "Olga", "Siobhan", "Niamh", "Oluwaseun", "Nkechi", "Thanh", "Linh", "Jae",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez",
    "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart",
    "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell",
    "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez",
    "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin",
    "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina",
    "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner",
    "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice",
    "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner",
    "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Hansen", "Peters",
    "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll",
    "Lane", "Riley", "Andrews", "Ray", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena",
    "Richards", "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval", "Okafor", "Adeyemi", "Singh",
    "Sharma", "Gupta", "Wang", "Zhang", "Liu", "Yamamoto", "Tanaka", "Park", "Choi", "O'Brien", "O'Connor",
    "Kowalski", "Novak", "Ivanova", "Haddad", "Khalil", "Mensah", "Banda", "Pham", "Vo", "Delgado",
)


@dataclass(frozen=True)
class Department:
    """A department of the surgery centre: its share of staff, job titles and Google org unit."""

    name: str
    share: float  # fraction of ordinary staff
    titles: tuple[str, ...]
    org_unit: str


DEPARTMENTS: tuple[Department, ...] = (
    Department("Perioperative Nursing", 0.27,
               ("Registered Nurse, Pre-Op", "Registered Nurse, PACU", "Circulating Nurse", "Charge Nurse",
                "Surgical Technologist", "Nurse Manager, Perioperative Services"), "/Clinical/Nursing"),
    Department("Anesthesia", 0.09,
               ("Anesthesiologist", "Certified Registered Nurse Anesthetist", "Anesthesia Technician"),
               "/Clinical/Anesthesia"),
    Department("Surgery", 0.12,
               ("Orthopedic Surgeon", "Ophthalmic Surgeon", "General Surgeon", "ENT Surgeon",
                "Gastroenterologist", "Physician Assistant, Surgery", "Surgical First Assistant"),
               "/Clinical/Surgery"),
    Department("Front Desk and Scheduling", 0.14,
               ("Patient Access Representative", "Surgical Scheduler", "Front Desk Coordinator",
                "Patient Intake Specialist"), "/Administration/Front Desk"),
    Department("Billing and Revenue Cycle", 0.12,
               ("Medical Biller", "Coding Specialist", "Revenue Cycle Analyst", "Insurance Verification Specialist",
                "Billing Manager"), "/Administration/Billing"),
    Department("Sterile Processing", 0.09,
               ("Sterile Processing Technician", "Sterile Processing Lead", "Instrument Coordinator"),
               "/Clinical/Sterile Processing"),
    Department("Materials Management", 0.05,
               ("Materials Coordinator", "Purchasing Specialist", "Inventory Clerk"), "/Administration/Materials"),
    Department("Quality and Compliance", 0.04,
               ("Quality Improvement Coordinator", "Infection Preventionist", "Compliance Officer"),
               "/Administration/Compliance"),
    Department("Information Technology", 0.03,
               ("IT Support Specialist", "Systems Analyst", "EHR Analyst"), "/Administration/IT"),
    Department("Leadership", 0.05,
               ("Administrator", "Director of Nursing", "Medical Director", "Chief Financial Officer",
                "Business Office Manager", "HR Manager"), "/Administration/Leadership"),
)


@dataclass(frozen=True)
class AdminRole:
    """A directory role: display name, Entra role template id, and whether Microsoft marks it privileged."""

    name: str
    template_id: str
    privileged: bool
    description: str


ROLES: tuple[AdminRole, ...] = (
    AdminRole("Global Administrator", "62e90394-69f5-4237-9190-012177145e10", True,
              "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra "
              "identities."),
    AdminRole("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814", True,
              "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity "
              "Management."),
    AdminRole("Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", True,
              "Can access to view, set and reset authentication method information for any user (admin or "
              "non-admin)."),
    AdminRole("Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d", True,
              "Can read security information and reports, and manage configuration in Microsoft Entra ID and "
              "Office 365."),
    AdminRole("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de", False,
              "Can manage all aspects of the Exchange product."),
    AdminRole("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1", True,
              "Can manage all aspects of users and groups, including resetting passwords for limited admins."),
    AdminRole("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8", True,
              "Can reset passwords for non-administrators and Helpdesk Administrators."),
    AdminRole("Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f", True,
              "Can access to view, set and reset authentication method information for any non-admin user."),
    AdminRole("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", True,
              "Can create and manage all aspects of app registrations and enterprise apps."),
    AdminRole("Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7", True,
              "Can create and manage all aspects of app registrations and enterprise apps except App Proxy."),
    AdminRole("Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", True,
              "Can manage Conditional Access capabilities."),
    AdminRole("Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", True,
              "Can read everything that a Global Administrator can, but not update anything."),
    AdminRole("Billing Administrator", "b0f54661-2d74-4c50-afa3-1ec803f12efe", False,
              "Can perform common billing related tasks like updating payment information."),
    AdminRole("Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf", False,
              "Can read sign-in and audit reports."),
    AdminRole("Teams Administrator", "69091246-20e8-4a56-aa4d-066075b2a7a8", False,
              "Can manage the Microsoft Teams service."),
    AdminRole("SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", False,
              "Can manage all aspects of the SharePoint service."),
)

ROLE_BY_NAME: dict[str, AdminRole] = {r.name: r for r in ROLES}

GLOBAL_ADMIN = "Global Administrator"

# Free-mail domains an attacker forwards stolen mail to.
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.com")

# Outside organisations the clinic works with (guests, a forwarding answering service, a partner lab).
PARTNER_LAB = "quest-diagnostics-partner.com"
BILLING_VENDOR = "medbill-solutions.com"
ANSWERING_SERVICE = "answerpoint-service.com"
MSP = "northbridge-it.com"
